#!/usr/bin/env python3
"""Export PickScore (or a CLIP model of the same architecture) to Pick Studio's model folder.

Writes the folder that the studio's scorer reads (DESIGN.md, "PickScore model directory"):

  manifest.json             {"format": "pickstudio-dual-encoder/1", "name", "logit_scale"
                             (already exp'd), "embed_dim", "max_text_len": 77, "source"}
  text_encoder.onnx         input_ids int64 [B,77], attention_mask int64 [B,77]
                            -> text_embeds float32 [B,D]   (CLIPModel.get_text_features)
  image_encoder.onnx        pixel_values float32 [B,3,224,224]
                            -> image_embeds float32 [B,D]  (CLIPModel.get_image_features)
  tokenizer.json            the CLIP BPE tokenizer (Hugging Face tokenizers format)
  preprocessor_config.json  the CLIPImageProcessor config

Embeddings are projected and NOT normalised; the batch axis is dynamic. A tower whose weights
pass 2 GB (ViT-H/14 in float32) keeps them in `<tower>.onnx.data` beside it, which the studio
reads. Then it checks the ONNX files against the PyTorch model and exits 1 if PickScore's
probability p0 differs by more than --tolerance.

Needs: torch, transformers, onnx, numpy; onnxruntime for the check, --fp16 and --optimize;
Pillow for the check's images.   pip install torch transformers onnx onnxruntime
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import gc
import importlib
import inspect
import io
import json
import math
import os
import shutil
import socket
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import NoReturn

FORMAT = "pickstudio-dual-encoder/1"
MAX_TEXT_LEN = 77
DEFAULT_MODEL = "yuvalkirstain/PickScore_v1"
DEFAULT_PROCESSOR = "laion/CLIP-ViT-H-14-laion2B-s32B-b79K"
PROCESSOR_FILES = ("tokenizer.json", "preprocessor_config.json")
REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURE_PROCESSOR = REPO_ROOT / "tests" / "fixtures" / "clip-tokenizer"
# One protobuf may not pass 2 GiB; a tower above this keeps its weights in a .data file.
EXTERNAL_DATA_THRESHOLD = 1_900_000_000
DEFAULT_TOLERANCE = {"fp32": 1e-3, "fp16": 2e-2}
INSTALL_HINT = "pip install torch transformers onnx onnxruntime"

# CLIP's token ids: <|startoftext|>, <|endoftext|> (also the padding).
BOS_ID, EOS_ID = 49406, 49407

# Architectures for --random-init. h14 is laion/CLIP-ViT-H-14-laion2B-s32B-b79K's (and so
# PickScore's): gelu, 1280/32 layers/16 heads/patch 14 vision, 1024/24/16 text, 1024 projection.
# b16 is openai/clip-vit-base-patch16's (quick_gelu). tiny is a few MB, for tests.
RANDOM_ARCHS = {
    "tiny": dict(
        text=dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                  intermediate_size=64, hidden_act="gelu"),
        vision=dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                    intermediate_size=64, patch_size=32, hidden_act="gelu"),
        projection_dim=16,
    ),
    "b16": dict(
        text=dict(hidden_size=512, num_hidden_layers=12, num_attention_heads=8,
                  intermediate_size=2048, hidden_act="quick_gelu"),
        vision=dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                    intermediate_size=3072, patch_size=16, hidden_act="quick_gelu"),
        projection_dim=512,
    ),
    "h14": dict(
        text=dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16,
                  intermediate_size=4096, hidden_act="gelu"),
        vision=dict(hidden_size=1280, num_hidden_layers=32, num_attention_heads=16,
                    intermediate_size=5120, patch_size=14, hidden_act="gelu"),
        projection_dim=1024,
    ),
}

CHECK_PROMPTS = [
    "a photo of a cat",
    "A cinematic shot of a corgi wearing sunglasses, surfing a wave at sunset, 35mm film",
    "masterpiece, best quality, 8k, ultra-detailed, (highly detailed:1.2), [bad hands]",
    "東京タワーの夜景、油絵",
    # Longer than 77 tokens: truncated, as the studio and transformers do.
    "an extremely detailed isometric illustration of a tiny floating island with a lighthouse, "
    "waterfalls pouring into the clouds, little houses with red roofs, windmills, a winding "
    "road, sheep on green hills, hot air balloons in the sky, golden hour lighting, "
    "volumetric fog, trending on artstation, unreal engine, octane render, 4k wallpaper",
    "portrait of an elderly woman, Rembrandt lighting, oil on canvas",
]
# (width, height, PIL mode) of the check's images: landscape, portrait, square, smaller than
# the crop (upscaled), a grey and an RGBA image (alpha dropped, as PIL's convert('RGB') does).
CHECK_IMAGE_SHAPES = [
    (320, 240, "RGB"), (240, 320, "RGB"), (224, 224, "RGB"), (512, 384, "RGB"),
    (300, 200, "L"), (150, 120, "RGB"), (256, 256, "RGBA"), (333, 500, "RGB"),
]

MAX_CHECK_PAIRS = 16

_START = time.time()


def log(message: str) -> None:
    print(f"[{time.time() - _START:7.1f}s] {message}", flush=True)


def fail(message: str, code: int = 2) -> NoReturn:
    print(f"export_pickscore: error: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


def human_size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1000
    return f"{n:.1f} GB"


# ---------------------------------------------------------------------------------------------
# Arguments


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="export_pickscore.py",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Export PickScore (yuvalkirstain/PickScore_v1, a CLIP ViT-H/14 fine-tuned on "
            "Pick-a-Pic) to the model folder Pick Studio reads: manifest.json, "
            "text_encoder.onnx, image_encoder.onnx, tokenizer.json, preprocessor_config.json. "
            "Then check the ONNX towers against PyTorch."
        ),
        epilog="""\
examples:
  # once, on a machine with internet (downloads about 4 GB):
  pip install torch transformers onnx onnxruntime
  python tools/export_pickscore.py --out ~/models/pickscore
  python tools/export_pickscore.py --out ~/models/pickscore-fp16 --fp16 --optimize
  # then: pickstudio score project.pickstudio --model ~/models/pickscore

  # no network needed: random weights, PickScore's architecture (h14) or smaller ones
  python tools/export_pickscore.py --random-init tiny --out /tmp/tiny-model
  python tools/export_pickscore.py --random-init h14 --fp16 --out /tmp/h14-random

notes:
  The graph inputs and outputs are always int64/float32 as above, also with --fp16 (the towers
  cast inside): the studio's loader accepts nothing else, so there is no float16-I/O option.
  A float32 ViT-H/14 image tower is 2.5 GB, over protobuf's 2 GB: its weights go to
  image_encoder.onnx.data beside it (the studio reads such files; keep them together).
  Exit status: 0 ok, 1 the check failed (the folder is then kept as DIR.rejected, not DIR),
  2 bad arguments, a missing package or an error while exporting.
""",
    )
    src = parser.add_argument_group("where the model comes from")
    src.add_argument("--out", required=True, metavar="DIR",
                     help="the model folder to write (created; its model files are replaced)")
    src.add_argument("--model", default=DEFAULT_MODEL, metavar="ID_OR_DIR",
                     help=f"CLIPModel on the Hugging Face hub, or a local folder (default {DEFAULT_MODEL})")
    src.add_argument("--revision", default=None, metavar="REV",
                     help="hub revision (branch, tag or commit) of --model (default: main)")
    src.add_argument("--processor", default=DEFAULT_PROCESSOR, metavar="ID_OR_DIR",
                     help="where tokenizer.json and preprocessor_config.json come from: a hub "
                          f"repo or a local folder (default {DEFAULT_PROCESSOR}, as PickScore's README)")
    src.add_argument("--processor-revision", default=None, metavar="REV",
                     help="hub revision of --processor")
    src.add_argument("--processor-dir", default=None, metavar="DIR",
                     help="take tokenizer.json and preprocessor_config.json from this folder "
                          "(overrides --processor; never touches the hub)")
    src.add_argument("--random-init", choices=sorted(RANDOM_ARCHS), default=None,
                     help="no download: a CLIPModel with random (seeded) weights of these sizes: "
                          "tiny (a few MB, for tests), b16 (CLIP ViT-B/16), h14 (PickScore's "
                          "ViT-H/14). logit_scale is set to 100 like PickScore's. The processor "
                          "files come from --processor-dir, else the hub if reachable (not with "
                          "--offline or HF_HUB_OFFLINE=1), else tests/fixtures/clip-tokenizer/")
    src.add_argument("--seed", type=int, default=0, help="seed of --random-init (default 0)")
    src.add_argument("--name", default=None,
                     help="manifest name (default: the model id's last part, e.g. PickScore_v1; "
                          "random-init-SIZE-seedN (not PickScore) with --random-init)")
    src.add_argument("--offline", action="store_true",
                     help="never contact the Hugging Face hub (use its cache or local folders); "
                          "HF_HUB_OFFLINE=1 does the same")

    exp = parser.add_argument_group("export")
    exp.add_argument("--fp16", action="store_true",
                     help="float16 weights and arithmetic inside both towers (half the size); "
                          "inputs and outputs stay int64/float32")
    exp.add_argument("--optimize", action="store_true",
                     help="run onnxruntime's transformer optimizer on both towers (model_type "
                          "'clip', heads and hidden size from each tower's config; its Python "
                          "fusions, opt_level 0; after the float16 conversion with --fp16) and "
                          "print the fusions it reports")
    exp.add_argument("--opset", type=int, default=17, help="ONNX opset, 17 or later (default 17)")
    exp.add_argument("--exporter", choices=("auto", "torchscript", "dynamo"), default="auto",
                     help="torch.onnx exporter: torchscript (dynamo=False), dynamo (torch.export; "
                          "needs onnxscript; opset 18 or later), or auto: torchscript, falling "
                          "back to dynamo if it fails (default auto)")
    exp.add_argument("--attn", choices=("eager", "sdpa"), default="eager",
                     help="transformers attention implementation traced into the graph. eager "
                          "(default) lets --optimize fuse the image tower's attention; sdpa does not")
    exp.add_argument("--external-data", choices=("auto", "always", "never"), default="auto",
                     help="weights in <tower>.onnx.data: auto (only past 1.9 GB), always, never "
                          "(fails past 2 GB) (default auto)")
    exp.add_argument("--device", default="cpu",
                     help="torch device for export and the check's reference, e.g. cpu or cuda "
                          "(default cpu)")
    exp.add_argument("--force", action="store_true",
                     help="write into --out even if it holds files but no manifest.json")

    chk = parser.add_argument_group("check")
    chk.add_argument("--no-check", action="store_true", help="skip the ONNX vs PyTorch check")
    chk.add_argument("--check-pairs", type=int, default=4, metavar="N",
                     help="(prompt, image, image) pairs in the check (default 4, at most "
                          f"{MAX_CHECK_PAIRS})")
    chk.add_argument("--check-provider", choices=("cpu", "cuda"), default="cpu",
                     help="onnxruntime provider for the check: cpu, or cuda (needs "
                          "onnxruntime-gpu; falls back to cpu with a warning) (default cpu)")
    chk.add_argument("--tolerance", type=float, default=None, metavar="P",
                     help="largest |p0(ONNX) - p0(PyTorch)| accepted (default "
                          f"{DEFAULT_TOLERANCE['fp32']} float32, {DEFAULT_TOLERANCE['fp16']} with --fp16)")
    chk.add_argument("--check-out", default=None, metavar="FILE.json",
                     help="write the check's inputs and results: prompts, the image files "
                          "(PNGs written to FILE_images/ beside it), PyTorch's and ONNX's scores, "
                          "p0 and unit embeddings")
    args = parser.parse_args(argv)
    if args.opset < 17:
        parser.error("--opset must be 17 or later")
    if not 1 <= args.check_pairs <= MAX_CHECK_PAIRS:
        parser.error(f"--check-pairs must be 1 to {MAX_CHECK_PAIRS}")
    if args.tolerance is None:
        args.tolerance = DEFAULT_TOLERANCE["fp16" if args.fp16 else "fp32"]
    if args.check_out and args.no_check:
        parser.error("--check-out needs the check (drop --no-check)")
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        args.offline = True
    return args


# ---------------------------------------------------------------------------------------------
# Dependencies


class Deps:
    pass


def import_deps(args: argparse.Namespace) -> Deps:
    """Imports what this run needs; a missing one ends the run with one line saying what to do."""
    needed = ["torch", "transformers", "onnx", "numpy"]
    if not args.no_check or args.fp16 or args.optimize:
        needed.append("onnxruntime")
    deps = Deps()
    missing = []
    for name in needed:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                setattr(deps, name, importlib.import_module(name))
        except Exception as error:  # ImportError, or a broken install
            missing.append(f"{name} ({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''})")
    if missing:
        what = "; ".join(missing)
        fail(f"{sys.executable} lacks {what}. Install: {INSTALL_HINT}")
    try:
        deps.PIL = importlib.import_module("PIL.Image")
    except Exception:
        deps.PIL = None
    return deps


def versions(deps: Deps) -> str:
    parts = [f"python {sys.version.split()[0]}"]
    for name in ("torch", "transformers", "onnx", "onnxruntime"):
        module = getattr(deps, name, None)
        if module is not None:
            parts.append(f"{name} {module.__version__}")
    return ", ".join(parts)


# ---------------------------------------------------------------------------------------------
# The model


def hub_reachable(timeout: float = 3.0) -> bool:
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    host = endpoint.split("://", 1)[-1].split("/", 1)[0]
    port = 443 if endpoint.startswith("https") else 80
    if ":" in host:
        host, port_text = host.rsplit(":", 1)
        port = int(port_text)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def with_attn(load, attn: str):
    """Calls load(attn_implementation=attn) where this transformers takes it, else load()."""
    try:
        return load(attn_implementation=attn)
    except (TypeError, ValueError) as error:
        if "attn_implementation" not in str(error) and "unexpected keyword" not in str(error):
            raise
        return load()


def random_model(deps: Deps, args: argparse.Namespace):
    torch, transformers = deps.torch, deps.transformers
    arch = RANDOM_ARCHS[args.random_init]
    text_config = dict(arch["text"], vocab_size=49408, max_position_embeddings=MAX_TEXT_LEN,
                       layer_norm_eps=1e-5, bos_token_id=BOS_ID, eos_token_id=EOS_ID,
                       pad_token_id=1, projection_dim=arch["projection_dim"])
    vision_config = dict(arch["vision"], image_size=224, num_channels=3, layer_norm_eps=1e-5,
                         projection_dim=arch["projection_dim"])
    config = transformers.CLIPConfig(text_config=text_config, vision_config=vision_config,
                                     projection_dim=arch["projection_dim"],
                                     logit_scale_init_value=math.log(100.0))
    torch.manual_seed(args.seed)
    model = with_attn(lambda **kw: transformers.CLIPModel._from_config(config, **kw), args.attn)
    with torch.no_grad():
        model.logit_scale.fill_(math.log(100.0))
    return model


def hub_commit(deps: Deps, model, repo: str, revision: str | None) -> str:
    sha = getattr(model.config, "_commit_hash", None)
    if sha:
        return sha
    try:
        from huggingface_hub import HfApi
        return HfApi().model_info(repo, revision=revision).sha or (revision or "main")
    except Exception:
        return revision or "main"


def pretrained_model(deps: Deps, args: argparse.Namespace):
    transformers = deps.transformers
    kwargs = {"revision": args.revision} if args.revision else {}
    if args.offline:
        kwargs["local_files_only"] = True
    try:
        model = with_attn(
            lambda **kw: transformers.CLIPModel.from_pretrained(args.model, **kwargs, **kw),
            args.attn,
        )
    except (OSError, ValueError) as error:
        hint = (" (the hub is unreachable and the model is not in the local cache: run this "
                "once where the hub can be reached, or use --random-init)" if args.hub_unreachable
                else " (--offline / HF_HUB_OFFLINE: only the local cache is used)" if args.offline
                else " (no network? --random-init needs none)")
        fail(f"cannot load {args.model}: {str(error).splitlines()[0]}{hint}")
    return model


def load_model(deps: Deps, args: argparse.Namespace):
    """The CLIPModel, in float32 eval mode, and a description of where it came from."""
    if args.random_init:
        log(f"building a CLIPModel with random weights: --random-init {args.random_init}, "
            f"seed {args.seed}")
        model = random_model(deps, args)
        source = (f"random weights (tools/export_pickscore.py --random-init {args.random_init}, "
                  f"seed {args.seed}): the CLIPModel architecture, NOT PickScore and not trained")
        name = args.name or f"random-init-{args.random_init}-seed{args.seed} (not PickScore)"
    else:
        log(f"loading {args.model}" + (f" @ {args.revision}" if args.revision else "")
            + (" (offline)" if args.offline else ""))
        model = pretrained_model(deps, args)
        if Path(args.model).is_dir():
            source = f"CLIPModel from the local folder {Path(args.model).resolve()}"
        else:
            commit = hub_commit(deps, model, args.model, args.revision)
            source = f"Hugging Face hub {args.model} @ {commit} (CLIPModel)"
        name = args.name or args.model.rstrip("/").split("/")[-1]
    model = model.float().eval().to(args.device)
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    count = sum(p.numel() for p in model.parameters())
    config = model.config
    log(f"model: {count / 1e6:.1f}M parameters; text {config.text_config.hidden_size}x"
        f"{config.text_config.num_hidden_layers}, vision {config.vision_config.hidden_size}x"
        f"{config.vision_config.num_hidden_layers} patch {config.vision_config.patch_size}, "
        f"embed_dim {config.projection_dim}, logit_scale {float(model.logit_scale.exp()):.4f}, "
        f"attention {getattr(config, '_attn_implementation', '?')}")
    return model, source, name


def fetch_processor_files(deps: Deps, args: argparse.Namespace, stage: Path) -> str:
    """Copies tokenizer.json and preprocessor_config.json into `stage`; says where from."""
    def copy_from(folder: Path, what: str) -> str:
        for file in PROCESSOR_FILES:
            if not (folder / file).is_file():
                fail(f"{what} {folder} has no {file}")
            shutil.copyfile(folder / file, stage / file)
        return f"{what} {folder}"

    if args.processor_dir:
        return copy_from(Path(args.processor_dir).resolve(), "folder")
    if Path(args.processor).is_dir():
        return copy_from(Path(args.processor).resolve(), "folder")
    if args.random_init:
        # Random weights need no network: the hub only when it answers, else the repo's copy.
        if args.offline:
            log("processor: the hub is not used (offline or unreachable); taking the CLIP "
                f"tokenizer and preprocessor config from {FIXTURE_PROCESSOR}")
            return copy_from(FIXTURE_PROCESSOR, "folder")
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:
        fail(f"huggingface_hub is missing (it comes with transformers). Install: {INSTALL_HINT}")
    commit = None
    for file in PROCESSOR_FILES:
        try:
            path = hf_hub_download(args.processor, file, revision=args.processor_revision,
                                   local_files_only=args.offline)
        except Exception as error:
            if file == "tokenizer.json" and type(error).__name__ == "EntryNotFoundError":
                # A repo with only vocab.json + merges.txt: the fast tokenizer writes the file.
                tokenizer = deps.transformers.CLIPTokenizerFast.from_pretrained(
                    args.processor, revision=args.processor_revision)
                tokenizer.save_pretrained(str(stage / "tokenizer-files"))
                shutil.copyfile(stage / "tokenizer-files" / file, stage / file)
                shutil.rmtree(stage / "tokenizer-files", ignore_errors=True)
                continue
            if args.random_init and FIXTURE_PROCESSOR.is_dir():
                log(f"processor: {args.processor} unavailable ({type(error).__name__}); taking "
                    f"{FIXTURE_PROCESSOR}")
                return copy_from(FIXTURE_PROCESSOR, "folder")
            why = ("the hub is unreachable and the file is not in the local cache; run this once "
                   "where the hub can be reached, or give --processor-dir" if args.hub_unreachable
                   else str(error).splitlines()[0])
            fail(f"cannot fetch {file} of {args.processor}: {why}")
        shutil.copyfile(path, stage / file)
        # The hub cache keeps files under snapshots/<commit>/.
        parent = Path(path).parent
        if parent.parent.name == "snapshots":
            commit = parent.name
    return f"Hugging Face hub {args.processor} @ {commit or args.processor_revision or 'main'}"


def check_processor_files(stage: Path) -> None:
    """The studio's tokenizer and preprocessing checks, in short, to fail here and not there."""
    try:
        tokenizer = json.loads((stage / "tokenizer.json").read_text(encoding="utf-8"))
        config = json.loads((stage / "preprocessor_config.json").read_text(encoding="utf-8"))
    except ValueError as error:
        fail(f"the processor files are not valid JSON: {error}")
    if tokenizer.get("model", {}).get("type") != "BPE":
        fail("tokenizer.json is not a BPE tokenizer (CLIP's is)")
    added = {t.get("content") for t in tokenizer.get("added_tokens", [])}
    if not {"<|startoftext|>", "<|endoftext|>"} <= added:
        fail("tokenizer.json lacks CLIP's <|startoftext|> / <|endoftext|> tokens")
    kind = config.get("image_processor_type", config.get("feature_extractor_type"))
    if kind not in (None, "CLIPImageProcessor", "CLIPFeatureExtractor"):
        fail(f"preprocessor_config.json is a {kind}, not CLIPImageProcessor's")


def crop_size(stage: Path) -> int:
    config = json.loads((stage / "preprocessor_config.json").read_text(encoding="utf-8"))
    crop = config.get("crop_size", 224)
    if isinstance(crop, dict):
        crop = crop.get("height", crop.get("shortest_edge", 224))
    return int(crop)


# ---------------------------------------------------------------------------------------------
# Export


def tower_modules(torch, model):
    """The two towers as plain modules: exactly CLIPModel.get_text_features/get_image_features
    (projection of the pooled output), written out so every transformers version traces the
    same thing (5.x returns a ModelOutput from get_*_features, 4.x a tensor)."""

    def pooled(output):
        if isinstance(output, (tuple, list)):
            return output[1]
        value = getattr(output, "pooler_output", None)
        return value if value is not None else output[1]

    class TextTower(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.text_model = model.text_model
            self.text_projection = model.text_projection

        def forward(self, input_ids, attention_mask):
            out = self.text_model(input_ids=input_ids, attention_mask=attention_mask)
            return self.text_projection(pooled(out))

    class ImageTower(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.vision_model = model.vision_model
            self.visual_projection = model.visual_projection

        def forward(self, pixel_values):
            return self.visual_projection(pooled(self.vision_model(pixel_values=pixel_values)))

    return TextTower().eval(), ImageTower().eval()


def reference_features(torch, model, input_ids=None, attention_mask=None, pixel_values=None):
    """CLIPModel's own get_text_features / get_image_features, on any transformers version."""
    def tensor(output):
        if torch.is_tensor(output):
            return output
        value = getattr(output, "pooler_output", None)
        return value if value is not None else output[0]

    if pixel_values is not None:
        return tensor(model.get_image_features(pixel_values=pixel_values))
    return tensor(model.get_text_features(input_ids=input_ids, attention_mask=attention_mask))


def choose_exporter(torch, requested: str) -> str:
    takes_dynamo = "dynamo" in inspect.signature(torch.onnx.export).parameters
    if requested == "dynamo" and not takes_dynamo:
        fail(f"torch {torch.__version__} has no dynamo ONNX exporter; use --exporter torchscript")
    if requested != "auto":
        return requested
    return "torchscript"


def export_tower(deps: Deps, args, module, example: tuple, input_names: list[str],
                 output_name: str, path: Path, exporter: str) -> str:
    """torch.onnx.export with a dynamic batch axis; returns the exporter that worked."""
    torch = deps.torch
    dynamic_axes = {name: {0: "batch"} for name in input_names + [output_name]}
    common = dict(input_names=input_names, output_names=[output_name],
                  opset_version=args.opset)
    takes_dynamo = "dynamo" in inspect.signature(torch.onnx.export).parameters

    def torchscript():
        kwargs = dict(common, dynamic_axes=dynamic_axes, do_constant_folding=True)
        if takes_dynamo:
            kwargs["dynamo"] = False
        torch.onnx.export(module, example, str(path), **kwargs)

    def dynamo():
        batch = torch.export.Dim("batch", min=1, max=65536)
        shapes = {name: {0: batch} for name in input_names}
        # The dynamo exporter implements opset 18 and later; asked for less, it converts down.
        kwargs = dict(common, dynamo=True, dynamic_shapes=shapes,
                      opset_version=max(18, args.opset))
        if "external_data" in inspect.signature(torch.onnx.export).parameters:
            kwargs["external_data"] = True
        with contextlib.redirect_stdout(io.StringIO()):
            program = torch.onnx.export(module, example, **kwargs)
        program.save(str(path), external_data=True)

    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if exporter == "dynamo":
            dynamo()
            return "dynamo"
        try:
            torchscript()
            return "torchscript"
        except Exception as error:
            if args.exporter == "torchscript" or not takes_dynamo:
                raise
            log(f"  the TorchScript exporter failed ({type(error).__name__}: "
                f"{str(error).splitlines()[0][:200]}); trying the dynamo exporter")
            for leftover in path.parent.iterdir():
                if leftover.is_file():
                    leftover.unlink()
            dynamo()
            return "dynamo"


def tensor_bytes(onnx, model) -> int:
    total = 0
    for tensor in model.graph.initializer:
        if tensor.HasField("raw_data") and tensor.raw_data:
            total += len(tensor.raw_data)
        else:
            count = 1
            for d in tensor.dims:
                count *= d
            total += count * 4
    return total


def set_io_shapes(onnx, model, inputs: dict, outputs: dict) -> None:
    """Names the batch axis 'batch' and fixes every other dim, as the studio's loader reads them."""
    def apply(values, wanted):
        for value in values:
            if value.name not in wanted:
                continue
            elem_type, dims = wanted[value.name]
            tensor_type = value.type.tensor_type
            tensor_type.elem_type = elem_type
            tensor_type.ClearField("shape")
            for d in dims:
                dim = tensor_type.shape.dim.add()
                if d == "batch":
                    dim.dim_param = "batch"
                else:
                    dim.dim_value = d

    apply(model.graph.input, inputs)
    apply(model.graph.output, outputs)


def verify_signature(onnx, model, file: str, inputs: dict, outputs: dict) -> None:
    """What electron/core/scoring/model-folder.ts demands: exactly these inputs and outputs, by
    name, element type and shape, batch dynamic."""
    initializers = {t.name for t in model.graph.initializer}
    actual_inputs = [v for v in model.graph.input if v.name not in initializers]
    problems = []
    for role, actual, wanted in (("input", actual_inputs, inputs),
                                 ("output", list(model.graph.output), outputs)):
        names = sorted(v.name for v in actual)
        if names != sorted(wanted):
            problems.append(f"{role}s {names}, not {sorted(wanted)}")
            continue
        for value in actual:
            elem_type, dims = wanted[value.name]
            tensor_type = value.type.tensor_type
            got = [d.dim_param or (d.dim_value if d.HasField("dim_value") else None)
                   for d in tensor_type.shape.dim]
            want = ["batch" if d == "batch" else d for d in dims]
            if tensor_type.elem_type != elem_type or got != want:
                problems.append(f"{role} {value.name}: type {tensor_type.elem_type} {got}, "
                                f"not {elem_type} {want}")
    if problems:
        fail(f"{file} does not have the studio's signature: {'; '.join(problems)}")


def save_onnx(onnx, model, path: Path, mode: str) -> list[Path]:
    """Saves `model` as `path`, with its weights in `path`.data when they need it; returns the
    files written."""
    data = path.with_name(path.name + ".data")
    if data.exists():
        data.unlink()
    size = tensor_bytes(onnx, model)
    external = mode == "always" or (mode == "auto" and size > EXTERNAL_DATA_THRESHOLD)
    if not external and size > 2_000_000_000:
        fail(f"{path.name} holds {human_size(size)} of weights, over protobuf's 2 GB: "
             "use --external-data auto (or --fp16)")
    if external:
        onnx.save_model(model, str(path), save_as_external_data=True,
                        all_tensors_to_one_file=True, location=data.name, size_threshold=1024)
        return [path, data]
    onnx.save_model(model, str(path))
    return [path]


def optimize(deps: Deps, model_or_path, config):
    """onnxruntime's transformer optimizer, its Python fusions only (opt_level 0: the studio's
    session applies onnxruntime's own graph optimizations when it loads the file); returns
    (ModelProto, fusion counts)."""
    try:
        from onnxruntime.transformers.optimizer import optimize_model
    except ImportError as error:
        fail(f"onnxruntime.transformers is unavailable ({error}); install onnxruntime")
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        optimized = optimize_model(model_or_path, model_type="clip",
                                   num_heads=config.num_attention_heads,
                                   hidden_size=config.hidden_size, opt_level=0)
        fusions = {k: v for k, v in optimized.get_fused_operator_statistics().items() if v}
        optimized.topological_sort()
    model = optimized.model
    # Fused operators live in onnxruntime's domain, which the file must then import.
    domains = {node.domain for node in model.graph.node if node.domain}
    imported = {opset.domain for opset in model.opset_import}
    for domain in sorted(domains - imported):
        model.opset_import.add(domain=domain, version=1)
    return model, fusions


def to_fp16(deps: Deps, raw: Path):
    """float16 weights and arithmetic, float32/int64 graph inputs and outputs (Casts inside)."""
    from onnxruntime.transformers import float16
    from onnxruntime.transformers.onnx_model import OnnxModel
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # From the path: shape inference then works past 2 GB too, and this comes before the
        # optimizer because the float32 model need not be held in memory whole twice.
        model = float16.convert_float_to_float16(str(raw), keep_io_types=True)
        # The converter appends the Casts of graph inputs last; ONNX wants nodes in order.
        OnnxModel(model).topological_sort()
    return model


def export_raw(deps: Deps, args, which: str, module, example, input_names, output_name,
               work: Path, exporter: str) -> tuple[Path, str]:
    """The tower as torch.onnx writes it, in its own folder under `work`."""
    raw_dir = work / which
    raw_dir.mkdir()
    raw = raw_dir / "raw.onnx"
    started = time.time()
    used = export_tower(deps, args, module, example, input_names, output_name, raw, exporter)
    raw_size = sum(f.stat().st_size for f in raw_dir.iterdir())
    opset = max(18, args.opset) if used == "dynamo" else args.opset
    log(f"  exported {which} tower ({used} exporter, opset {opset}): "
        f"{human_size(raw_size)} in {time.time() - started:.1f}s")
    return raw, used


def finish_tower(deps: Deps, args, which: str, raw: Path, config, signature,
                 stage: Path) -> list[Path]:
    """float16, optimizer, the studio's signature, saved into `stage`; returns the files."""
    onnx = deps.onnx
    file = f"{which}_encoder.onnx"
    model = None
    if args.fp16:
        started = time.time()
        model = to_fp16(deps, raw)
        log(f"  {which}: converted to float16 inside, float32/int64 at the edges "
            f"({time.time() - started:.1f}s)")
    if args.optimize:
        started = time.time()
        model, fusions = optimize(deps, model if model is not None else str(raw), config)
        described = ", ".join(f"{k} x{v}" for k, v in sorted(fusions.items())) or "none"
        log(f"  {which}: optimizer (model_type clip, {config.num_attention_heads} heads, "
            f"hidden {config.hidden_size}) fused: {described} ({time.time() - started:.1f}s)")
    if model is None:
        model = onnx.load(str(raw))
    inputs, outputs = signature
    set_io_shapes(onnx, model, inputs, outputs)
    verify_signature(onnx, model, file, inputs, outputs)
    model.doc_string = f"Pick Studio {which} tower, written by tools/export_pickscore.py"
    written = save_onnx(onnx, model, stage / file, args.external_data)
    del model
    try:
        onnx.checker.check_model(str(stage / file))
    except Exception as error:
        fail(f"{file} fails onnx.checker: {str(error).splitlines()[0]}")
    for path in written:
        log(f"  wrote {path.name}: {human_size(path.stat().st_size)}")
    shutil.rmtree(raw.parent, ignore_errors=True)
    return written


# ---------------------------------------------------------------------------------------------
# Check


def check_images(deps: Deps, count: int, seed: int):
    """Deterministic test pictures: gradients, blocks and a little noise, of several sizes."""
    np, Image = deps.numpy, deps.PIL
    rng = np.random.default_rng(seed + 1234)
    images = []
    for index in range(count):
        width, height, mode = CHECK_IMAGE_SHAPES[index % len(CHECK_IMAGE_SHAPES)]
        y, x = np.mgrid[0:height, 0:width].astype(np.float64)
        base = np.stack([
            127 + 120 * np.sin(x / (7 + 5 * index) + index),
            127 + 120 * np.cos(y / (11 + 3 * index) - index),
            127 + 120 * np.sin((x + y) / (13 + index)),
        ], axis=-1)
        for _ in range(6):
            x0, y0 = rng.integers(0, width - 8), rng.integers(0, height - 8)
            w, h = rng.integers(8, max(9, width // 2)), rng.integers(8, max(9, height // 2))
            base[y0:y0 + h, x0:x0 + w] = rng.integers(0, 256, size=3)
        base += rng.normal(0, 12, size=base.shape)
        rgb = np.clip(np.rint(base), 0, 255).astype(np.uint8)
        image = Image.fromarray(rgb, "RGB")
        if mode == "L":
            image = image.convert("L")
        elif mode == "RGBA":
            alpha = np.clip(np.rint(255 * (x / max(1, width - 1))), 0, 255).astype(np.uint8)
            image = Image.fromarray(np.dstack([rgb, alpha]), "RGBA")
        images.append(image)
    return images


def image_processor(deps: Deps, folder: Path):
    """transformers' PIL-based CLIPImageProcessor (what PickScore used), loaded from `folder`;
    None where this transformers cannot. In transformers 5, CLIPImageProcessor is the
    torchvision one when torchvision is installed, CLIPImageProcessorPil the PIL one."""
    transformers = deps.transformers
    for name in ("CLIPImageProcessorPil", "CLIPImageProcessor"):
        cls = getattr(transformers, name, None)
        if cls is None:
            continue
        try:
            with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
                warnings.simplefilter("ignore")
                processor = cls.from_pretrained(str(folder))
            return processor, f"transformers {type(processor).__name__}"
        except Exception as error:
            log(f"  {name} cannot load the folder's config ({type(error).__name__}: {error})")
    return None, None


def tokenizer_for(deps: Deps, folder: Path):
    """Returns encode(texts) -> (input_ids, attention_mask) as int64 numpy arrays [N, 77], as
    CLIPTokenizer(Fast) does with padding='max_length', truncation=True, max_length=77."""
    np, transformers = deps.numpy, deps.transformers
    cls = getattr(transformers, "CLIPTokenizerFast", None) or transformers.CLIPTokenizer
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tokenizer = cls(tokenizer_file=str(folder / "tokenizer.json"))

        def encode(texts):
            out = tokenizer(list(texts), padding="max_length", truncation=True,
                            max_length=MAX_TEXT_LEN, return_tensors="np")
            return (out["input_ids"].astype(np.int64), out["attention_mask"].astype(np.int64))

        return encode, f"transformers {type(tokenizer).__name__}"
    except Exception as error:
        log(f"  transformers' tokenizer failed ({type(error).__name__}); using tokenizers")
    from tokenizers import Tokenizer
    raw = Tokenizer.from_file(str(folder / "tokenizer.json"))
    raw.no_padding()
    raw.enable_truncation(MAX_TEXT_LEN)

    def encode_raw(texts):
        ids = np.full((len(texts), MAX_TEXT_LEN), EOS_ID, dtype=np.int64)
        mask = np.zeros((len(texts), MAX_TEXT_LEN), dtype=np.int64)
        for row, encoding in enumerate(raw.encode_batch(list(texts))):
            ids[row, :len(encoding.ids)] = encoding.ids
            mask[row, :len(encoding.ids)] = 1
        return ids, mask

    return encode_raw, "tokenizers"


def unit_rows(np, matrix):
    matrix = np.asarray(matrix, dtype=np.float64)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def pickscore(np, logit_scale: float, text_unit, image0_unit, image1_unit):
    s0 = logit_scale * float(np.dot(text_unit, image0_unit))
    s1 = logit_scale * float(np.dot(text_unit, image1_unit))
    return s0, s1, 1.0 / (1.0 + math.exp(s1 - s0))


def check_reference(deps: Deps, args, model, folder: Path, check_out: Path | None) -> dict:
    """The check's inputs, and PyTorch's embeddings of them (CLIPModel.get_*_features), taken
    before the export so that the PyTorch model can be freed while the ONNX files are made."""
    np, torch = deps.numpy, deps.torch
    pairs = args.check_pairs
    prompts = [CHECK_PROMPTS[i % len(CHECK_PROMPTS)] for i in range(pairs)]
    encode, tokenizer_name = tokenizer_for(deps, folder)
    input_ids, attention_mask = encode(prompts)

    images = check_images(deps, 2 * pairs, args.seed) if deps.PIL is not None else None
    processor, processor_name = (image_processor(deps, folder) if images is not None
                                 else (None, None))
    size = crop_size(folder)
    image_files: list[str] = []
    if processor is not None:
        pixel_values = processor(images=images, return_tensors="np")["pixel_values"]
        pixel_values = np.ascontiguousarray(pixel_values, dtype=np.float32)
        if check_out is not None:
            image_dir = check_out.with_name(check_out.stem + "_images")
            image_dir.mkdir(parents=True, exist_ok=True)
            for index, image in enumerate(images):
                path = image_dir / f"pair{index // 2}_image{index % 2}.png"
                image.save(path, format="PNG")
                image_files.append(str(path.resolve()))
    else:
        processor_name = "random pixel tensors (Pillow or CLIPImageProcessor unavailable)"
        pixel_values = np.random.default_rng(args.seed).standard_normal(
            (2 * pairs, 3, size, size)).astype(np.float32)
    log(f"check inputs: {pairs} pairs; prompts by {tokenizer_name}, images by {processor_name}")

    started = time.time()
    with torch.no_grad():
        device = args.device
        torch_text = reference_features(
            torch, model, input_ids=torch.from_numpy(input_ids).to(device),
            attention_mask=torch.from_numpy(attention_mask).to(device)).float().cpu().numpy()
        torch_image = np.concatenate([
            reference_features(
                torch, model, pixel_values=torch.from_numpy(pixel_values[i:i + 4]).to(device)
            ).float().cpu().numpy()
            for i in range(0, len(pixel_values), 4)
        ])
    log(f"  PyTorch reference embeddings ({device}, float32) in {time.time() - started:.1f}s")
    return dict(prompts=prompts, input_ids=input_ids, attention_mask=attention_mask,
                pixel_values=pixel_values, image_files=image_files, torch_text=torch_text,
                torch_image=torch_image, tokenizer=tokenizer_name, processor=processor_name)


def run_check(deps: Deps, args, reference: dict, folder: Path, logit_scale: float,
              check_out: Path | None) -> bool:
    """The ONNX towers (onnxruntime) against the PyTorch reference: embeddings and p0."""
    np, ort = deps.numpy, deps.onnxruntime
    pairs = args.check_pairs
    prompts = reference["prompts"]
    input_ids, attention_mask = reference["input_ids"], reference["attention_mask"]
    pixel_values, image_files = reference["pixel_values"], reference["image_files"]
    torch_text, torch_image = reference["torch_text"], reference["torch_image"]
    tokenizer_name, processor_name = reference["tokenizer"], reference["processor"]
    log("check: the ONNX towers against PyTorch")

    providers = ["CPUExecutionProvider"]
    if args.check_provider == "cuda":
        if "CUDAExecutionProvider" in ort.get_available_providers():
            providers = ["CUDAExecutionProvider", "CPUExecutionProvider"]
        else:
            log("  warning: this onnxruntime has no CUDAExecutionProvider (pip install "
                "onnxruntime-gpu); checking on CPU")
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    try:
        text_session = ort.InferenceSession(str(folder / "text_encoder.onnx"), options,
                                            providers=providers)
        image_session = ort.InferenceSession(str(folder / "image_encoder.onnx"), options,
                                             providers=providers)
    except Exception as error:
        log(f"  FAILED: onnxruntime cannot load the exported towers: "
            f"{str(error).splitlines()[0]}")
        return False
    used_provider = text_session.get_providers()[0]
    onnx_text = text_session.run(["text_embeds"], {"input_ids": input_ids,
                                                   "attention_mask": attention_mask})[0]
    onnx_image = np.concatenate([
        image_session.run(["image_embeds"], {"pixel_values": pixel_values[i:i + 4]})[0]
        for i in range(0, len(pixel_values), 4)
    ])
    del text_session, image_session

    text_diff = float(np.abs(onnx_text - torch_text).max())
    image_diff = float(np.abs(onnx_image - torch_image).max())
    text_scale = float(np.abs(torch_text).max())
    image_scale = float(np.abs(torch_image).max())
    t_torch, t_onnx = unit_rows(np, torch_text), unit_rows(np, onnx_text)
    i_torch, i_onnx = unit_rows(np, torch_image), unit_rows(np, onnx_image)
    results = []
    p0_diff = 0.0
    score_diff = 0.0
    for pair in range(pairs):
        a, b = 2 * pair, 2 * pair + 1
        ts = pickscore(np, logit_scale, t_torch[pair], i_torch[a], i_torch[b])
        os_ = pickscore(np, logit_scale, t_onnx[pair], i_onnx[a], i_onnx[b])
        p0_diff = max(p0_diff, abs(ts[2] - os_[2]))
        score_diff = max(score_diff, abs(ts[0] - os_[0]), abs(ts[1] - os_[1]))
        results.append({
            "prompt": prompts[pair],
            "images": image_files[a:b + 1] if image_files else None,
            "torch": {"score0": ts[0], "score1": ts[1], "p0": ts[2]},
            "onnx": {"score0": os_[0], "score1": os_[1], "p0": os_[2]},
            "torch_text_unit": [round(float(v), 8) for v in t_torch[pair]],
            "torch_image_units": [[round(float(v), 8) for v in i_torch[k]] for k in (a, b)],
        })
    finite = bool(np.isfinite(onnx_text).all() and np.isfinite(onnx_image).all())
    if not finite:
        log("  FAILED: the ONNX towers output NaN or infinity")
    ok = finite and p0_diff <= args.tolerance
    log(f"  onnxruntime {ort.__version__} on {used_provider} vs PyTorch ({args.device}, float32):")
    log(f"  max |diff| text_embeds {text_diff:.3g} (values up to {text_scale:.3g}), "
        f"image_embeds {image_diff:.3g} (values up to {image_scale:.3g})")
    log(f"  max |diff| score (logit_scale x cosine) {score_diff:.3g}; p0 {p0_diff:.3g} "
        f"(tolerance {args.tolerance:g}): {'OK' if ok else 'FAILED'}")
    for r in results:
        log(f"    p0 torch {r['torch']['p0']:.6f}  onnx {r['onnx']['p0']:.6f}  "
            f"({r['prompt'][:48]!r})")
    if check_out is not None:
        report = {
            "folder": str(folder),
            "logit_scale": logit_scale,
            "tolerance": args.tolerance,
            "ok": ok,
            "provider": used_provider,
            "versions": versions(deps),
            "tokenizer": tokenizer_name,
            "image_preprocessing": processor_name,
            "max_abs_diff": {"text_embeds": text_diff, "image_embeds": image_diff,
                             "score": score_diff, "p0": p0_diff},
            "pairs": results,
        }
        check_out.parent.mkdir(parents=True, exist_ok=True)
        check_out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n",
                             encoding="utf-8")
        log(f"  wrote {check_out}")
    return ok


# ---------------------------------------------------------------------------------------------


def prepare_out(args) -> tuple[Path, Path]:
    out = Path(args.out).expanduser().resolve()
    if out.exists() and not out.is_dir():
        fail(f"--out {out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / "manifest.json").exists() and not args.force:
        fail(f"--out {out} holds files but no manifest.json; use an empty or new folder, or --force")
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    return out, stage


def install(stage: Path, target: Path, files: list[Path]) -> None:
    """Moves the staged files into `target`, the manifest last; drops stale weight files."""
    target.mkdir(parents=True, exist_ok=True)
    for stale in ("text_encoder.onnx.data", "image_encoder.onnx.data"):
        if not (stage / stale).exists() and (target / stale).exists():
            (target / stale).unlink()
    (target / "manifest.json").unlink(missing_ok=True)
    for file in sorted(files, key=lambda f: f.name == "manifest.json"):
        os.replace(file, target / file.name)
    shutil.rmtree(stage, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.hub_unreachable = False
    needs_hub = ((not args.random_init and not Path(args.model).is_dir())
                 or (not args.processor_dir and not Path(args.processor).is_dir()))
    if needs_hub and not args.offline and not hub_reachable():
        # Fail fast (or use the cache) rather than through the hub client's retries.
        args.offline = args.hub_unreachable = True
        log("the Hugging Face hub is unreachable from here: only its local cache can be used")
    if args.offline:
        os.environ["HF_HUB_OFFLINE"] = "1"
    deps = import_deps(args)
    torch, onnx = deps.torch, deps.onnx
    log(f"export_pickscore: {versions(deps)}")
    if args.device.startswith("cuda"):
        if not torch.cuda.is_available():
            fail(f"--device {args.device}: this torch sees no CUDA device")
        # The reference must be float32 arithmetic: TF32 matmuls and convolutions (cuDNN's
        # default) move embeddings by about 1e-3, which logit_scale turns into visible p0.
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    exporter = choose_exporter(torch, args.exporter)
    out, stage = prepare_out(args)
    try:
        work = Path(tempfile.mkdtemp(prefix="export-", dir=stage))
        processor_source = fetch_processor_files(deps, args, stage)
        check_processor_files(stage)
        log(f"processor files from {processor_source}")
        model, model_source, name = load_model(deps, args)
        config = model.config
        embed_dim = int(config.projection_dim)
        logit_scale = float(model.logit_scale.exp().item())
        size = crop_size(stage)
        if int(config.vision_config.image_size) != size:
            fail(f"the model takes {config.vision_config.image_size}px images but "
                 f"preprocessor_config.json crops to {size}px")

        check_out = Path(args.check_out).expanduser().resolve() if args.check_out else None
        reference = None
        if not args.no_check:
            reference = check_reference(deps, args, model, stage, check_out)

        text_tower, image_tower = tower_modules(torch, model)
        ids = torch.full((2, MAX_TEXT_LEN), EOS_ID, dtype=torch.long)
        ids[:, 0] = BOS_ID
        ids[0, 1:4] = torch.tensor([320, 1125, 539])
        ids[1, 1:3] = torch.tensor([2368, 530])
        mask = torch.zeros((2, MAX_TEXT_LEN), dtype=torch.long)
        mask[0, :5] = 1
        mask[1, :4] = 1
        pixels = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(0))
        device = args.device
        INT64, FLOAT = onnx.TensorProto.INT64, onnx.TensorProto.FLOAT
        towers = {
            "text": dict(
                module=text_tower, example=(ids.to(device), mask.to(device)),
                input_names=["input_ids", "attention_mask"], output_name="text_embeds",
                config=config.text_config,
                signature=({"input_ids": (INT64, ["batch", MAX_TEXT_LEN]),
                            "attention_mask": (INT64, ["batch", MAX_TEXT_LEN])},
                           {"text_embeds": (FLOAT, ["batch", embed_dim])}),
                describe=f"input_ids/attention_mask int64 [B,{MAX_TEXT_LEN}] -> "
                         f"text_embeds float32 [B,{embed_dim}]"),
            "image": dict(
                module=image_tower, example=(pixels.to(device),),
                input_names=["pixel_values"], output_name="image_embeds",
                config=config.vision_config,
                signature=({"pixel_values": (FLOAT, ["batch", 3, size, size])},
                           {"image_embeds": (FLOAT, ["batch", embed_dim])}),
                describe=f"pixel_values float32 [B,3,{size},{size}] -> "
                         f"image_embeds float32 [B,{embed_dim}]"),
        }
        files: list[Path] = []
        exporters = set()
        seconds = {}
        raws = {}
        for which, tower in towers.items():
            log(f"{which} tower: {tower['describe']}"
                + (", float16 inside" if args.fp16 else ", float32"))
            started = time.time()
            raws[which], used = export_raw(deps, args, which, tower["module"], tower["example"],
                                           tower["input_names"], tower["output_name"], work,
                                           exporter)
            exporters.add(used)
            seconds[which] = time.time() - started
        # The ONNX files are made without the PyTorch model in memory (ViT-H/14: 4 GB).
        del model, text_tower, image_tower, towers["text"]["module"], towers["image"]["module"]
        gc.collect()
        if device.startswith("cuda"):
            torch.cuda.empty_cache()
        for which, tower in towers.items():
            started = time.time()
            files += finish_tower(deps, args, which, raws[which], tower["config"],
                                  tower["signature"], stage)
            seconds[which] += time.time() - started
        shutil.rmtree(work, ignore_errors=True)
        text_seconds, image_seconds = seconds["text"], seconds["image"]

        precision = "float16 inside (float32/int64 I/O)" if args.fp16 else "float32"
        source = (
            f"{model_source}; tokenizer.json and preprocessor_config.json from "
            f"{processor_source}. Exported {datetime.date.today().isoformat()} by "
            f"tools/export_pickscore.py ({versions(deps)}; {'/'.join(sorted(exporters))} "
            f"exporter, opset {max(18, args.opset) if 'dynamo' in exporters else args.opset}, "
            f"{precision}"
            + (", onnxruntime transformer optimizer" if args.optimize else "")
            + f", attention {args.attn})"
        )
        manifest = {
            "format": FORMAT,
            "name": name,
            "logit_scale": logit_scale,
            "embed_dim": embed_dim,
            "max_text_len": MAX_TEXT_LEN,
            "source": source,
        }
        (stage / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False)
                                             + "\n", encoding="utf-8")
        files += [stage / f for f in ("manifest.json",) + PROCESSOR_FILES]
        log(f"manifest: name {name!r}, logit_scale {logit_scale:.6g}, embed_dim {embed_dim}")
        log(f"export took {text_seconds:.1f}s (text) + {image_seconds:.1f}s (image)")

        ok = True
        if reference is not None:
            ok = run_check(deps, args, reference, stage, logit_scale, check_out)
            if check_out is not None:
                report = json.loads(check_out.read_text(encoding="utf-8"))
                report["folder"] = str(out if ok else out.with_name(out.name + ".rejected"))
                check_out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n",
                                     encoding="utf-8")
        if not ok:
            rejected = out.with_name(out.name + ".rejected")
            shutil.rmtree(rejected, ignore_errors=True)
            install(stage, rejected, files)
            print(f"export_pickscore: the ONNX towers disagree with PyTorch beyond --tolerance "
                  f"{args.tolerance:g}; NOT written to {out}. The folder is at {rejected} for "
                  "inspection.", file=sys.stderr)
            return 1
        install(stage, out, files)
        total = sum((out / f.name).stat().st_size for f in files)
        log(f"done: {out} ({human_size(total)}):")
        for f in sorted(files, key=lambda f: f.name):
            log(f"  {f.name:26} {human_size((out / f.name).stat().st_size):>10}")
        return 0
    finally:
        shutil.rmtree(stage, ignore_errors=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        fail("interrupted", 130)
