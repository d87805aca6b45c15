"""The reference side of the GPU check (bench/gpu/run.sh): PyTorch + transformers, as PickScore's
README computes. Builds the same random-weight CLIP that tools/export_pickscore.py exported (same
architecture and seed), so the ONNX folder and this model hold the same weights.

  python3 reference.py speed --arch h14 [--batches 32,64]
      images/s through the image tower in fp16 (CUDA events, median of timed batches)
  python3 reference.py parity --arch b16 --inputs DIR NODE_SCORES.json...
      p_0 for the cases of DIR/inputs.json (made by bench/gpu/prepare.ts) from CLIPModel with
      CLIPProcessor's tokens and pixels, against the studio's p_0 in each NODE_SCORES.json; and
      the studio's token ids against CLIPTokenizer's
"""
import argparse, importlib.util, json, os, statistics, sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests/fixtures/clip-tokenizer"
spec = importlib.util.spec_from_file_location("export_pickscore", ROOT / "tools/export_pickscore.py")
exporter = importlib.util.module_from_spec(spec)
spec.loader.exec_module(exporter)


def model_for(arch: str, seed: int, attn: str):
    args = exporter.parse_args(["--out", "/tmp/unused", "--random-init", arch, "--seed", str(seed),
                                "--attn", attn, "--no-check"])
    deps = exporter.import_deps(args)
    return exporter.random_model(deps, args).eval()


def speed(a):
    model = model_for(a.arch, a.seed, "sdpa").cuda().half()
    out = {"torch": torch.__version__, "device": torch.cuda.get_device_name(), "results": []}
    for batch in [int(b) for b in a.batches.split(",")]:
        pixels = torch.randn(batch, 3, 224, 224, device="cuda", dtype=torch.float16)
        times = []
        with torch.inference_mode():
            for i in range(3 + a.timed):
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                model.get_image_features(pixel_values=pixels)
                end.record()
                torch.cuda.synchronize()
                if i >= 3:
                    times.append(start.elapsed_time(end) / 1000)
        out["results"].append({"batch": batch, "imagesPerS": batch / statistics.median(times)})
    print(json.dumps(out))


def features(output):
    # transformers 5 may return a model output rather than a tensor from get_*_features.
    return output if isinstance(output, torch.Tensor) else output.pooler_output


def parity(a):
    import transformers
    from PIL import Image
    from transformers import CLIPImageProcessor, CLIPProcessor, CLIPTokenizer

    inputs = json.loads((Path(a.inputs) / "inputs.json").read_text())
    model = model_for(a.arch, a.seed, "eager").double()
    logit_scale = model.logit_scale.exp().item()
    # transformers 5 backs CLIPImageProcessor with torchvision where it is installed, and keeps
    # the PIL version (what PickScore was trained with) as CLIPImageProcessorPil.
    pil_class = getattr(transformers, "CLIPImageProcessorPil", None)
    processors = {}
    if pil_class is not None:
        processors["CLIPImageProcessorPil"] = pil_class.from_pretrained(FIXTURES)
    default = CLIPProcessor.from_pretrained(FIXTURES).image_processor
    processors[f"CLIPProcessor default ({type(default).__name__})"] = default
    tokenizer = CLIPTokenizer.from_pretrained(FIXTURES)

    prompts = [c["prompt"] for c in inputs["cases"]]
    ref = tokenizer(prompts, padding="max_length", truncation=True, max_length=77, return_tensors="pt")
    same = sum(ref["input_ids"][i].tolist() == c["inputIds"] and ref["attention_mask"][i].tolist() == c["attentionMask"]
               for i, c in enumerate(inputs["cases"]))
    print(f"tokens: {same}/{len(prompts)} prompts identical to CLIPTokenizer's (transformers {transformers.__version__})")

    with torch.inference_mode():
        text = features(model.get_text_features(input_ids=ref["input_ids"], attention_mask=ref["attention_mask"]))
        text = text / text.norm(dim=-1, keepdim=True)
        names = sorted(inputs["pixels"])
        images = {n: Image.open(Path(a.inputs) / n) for n in names}
        reference = {}
        for label, processor in processors.items():
            pixels = processor(images=[images[n] for n in names], return_tensors="pt")["pixel_values"].double()
            ours = torch.stack([torch.from_numpy(
                __import__("numpy").fromfile(Path(a.inputs) / inputs["pixels"][n], dtype="float32").reshape(3, 224, 224)
            ).double() for n in names])
            diff = (pixels - ours).abs()
            print(f"{label}: pixel_values vs the studio's: max |diff| {diff.max().item():.5f}, "
                  f"share of values off by more than 1e-4: {(diff > 1e-4).double().mean().item():.4%}")
            emb = features(model.get_image_features(pixel_values=pixels))
            emb = dict(zip(names, emb / emb.norm(dim=-1, keepdim=True)))
            p0 = []
            for i, c in enumerate(inputs["cases"]):
                s = logit_scale * torch.stack([text[i] @ emb[c["images"][0]], text[i] @ emb[c["images"][1]]])
                p0.append(torch.softmax(s, dim=0)[0].item())
            reference[label] = p0

    worst = 0.0
    for node_file in a.node:
        studio = json.loads(Path(node_file).read_text())
        p_studio = [c["p0"] for c in studio["cases"]]
        for label, p0 in reference.items():
            d = [abs(x - y) for x, y in zip(p_studio, p0)]
            worst = max(worst, max(d))
            print(f"studio ({studio['provider']}, {Path(node_file).name}) vs {label}: "
                  f"max |p0 diff| {max(d):.5f}, median {statistics.median(d):.5f}; "
                  f"p0 range {min(p0):.3f}..{max(p0):.3f}")
    print(f"WORST |p0 diff| over every processor: {worst:.5f} ({'within' if worst <= 0.01 else 'OVER'} 0.01)")


parser = argparse.ArgumentParser()
sub = parser.add_subparsers(dest="command", required=True)
s = sub.add_parser("speed")
s.add_argument("--arch", default="h14")
s.add_argument("--seed", type=int, default=0)
s.add_argument("--batches", default="32,64")
s.add_argument("--timed", type=int, default=10)
p = sub.add_parser("parity")
p.add_argument("--arch", default="b16")
p.add_argument("--seed", type=int, default=0)
p.add_argument("--inputs", required=True)
p.add_argument("node", nargs="+")
a = parser.parse_args()
speed(a) if a.command == "speed" else parity(a)
