#!/usr/bin/env python3
"""Compute PickScore's prompt and image embeddings with the reference model, for Pick Studio.

Reads Pick-a-Pic-schema Parquet shards (caption, image_0_uid, image_1_uid, jpg_0, jpg_1, ...)
with Hugging Face `datasets`, embeds every distinct prompt and image once with PyTorch +
transformers (CLIPModel.get_text_features / get_image_features, as PickScore's README), on
every GPU of the machine (one process per GPU: `datasets.map(num_proc=..., with_rank=True)`,
each fed by threads that decode and preprocess the next images: --workers), and writes one
embeddings Parquet file that `pickstudio import-embeddings PROJECT FILE` loads:

  kind         string          'prompt' | 'image'
  key          string          the prompt's text, or the image's uid (image_0_uid / image_1_uid)
  embedding    list<float32>   unit vectors (normalised, as the studio caches them)
  fingerprint  string          the studio's fingerprint of the model folder (model-folder.ts)

The fingerprint ties the file to a model folder (tools/export_pickscore.py made it from the same
checkpoint): sha256 over manifest.json's bytes, then for text_encoder.onnx, image_encoder.onnx,
tokenizer.json, preprocessor_config.json and any external weight files the towers name (sorted),
"\\n" + name + "\\0" + the file's sha256 in hex. Give the folder with --model-folder (its
tokenizer.json and preprocessor_config.json are then also the ones used here, so prompts and
images are read exactly as the studio reads them), or the fingerprint itself with --fingerprint.

Needs: torch, transformers, datasets, numpy, Pillow.  pip install torch transformers datasets pillow
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import io
import mmap
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import NoReturn

TOOLS = Path(__file__).resolve().parent
DEFAULT_MODEL = "yuvalkirstain/PickScore_v1"
DEFAULT_PROCESSOR = "laion/CLIP-ViT-H-14-laion2B-s32B-b79K"
MODEL_FILES = ("text_encoder.onnx", "image_encoder.onnx", "tokenizer.json",
               "preprocessor_config.json")
PROCESSOR_FILES = ("tokenizer.json", "preprocessor_config.json")
INSTALL_HINT = "pip install torch transformers datasets pillow"
_START = time.time()


def log(message: str) -> None:
    print(f"[{time.time() - _START:7.1f}s] {message}", flush=True)


def fail(message: str, code: int = 2) -> NoReturn:
    print(f"embed_pickscore: error: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


# ---------------------------------------------------------------------------------------------
# The model folder's fingerprint, exactly as electron/core/scoring/model-folder.ts computes it.
# Only the standard library: `--print-fingerprint DIR` runs without torch.


def _varint(buf, pos: int, end: int) -> tuple[int, int]:
    value = shift = 0
    while pos < end:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
    raise ValueError("a varint runs past its message")


def _fields(buf, start: int, end: int):
    """(field number, start, end) of each length-delimited field of the message [start, end)."""
    pos = start
    while pos < end:
        tag, pos = _varint(buf, pos, end)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            _, pos = _varint(buf, pos, end)
        elif wire == 2:
            length, pos = _varint(buf, pos, end)
            if pos + length > end:
                raise ValueError("a field runs past its message")
            yield number, pos, pos + length
            pos += length
        elif wire in (1, 5):
            pos += 8 if wire == 1 else 4
        else:
            raise ValueError(f"wire type {wire}")


def onnx_external_data(file: Path) -> set[str]:
    """The files an ONNX model keeps weights in: ModelProto.graph(7).initializer(5)
    .external_data(13) entries whose key(1) is 'location', their value(2)."""
    found: set[str] = set()
    with open(file, "rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            return found
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            for number, g0, g1 in _fields(buf, 0, len(buf)):
                if number != 7:
                    continue
                for gnum, t0, t1 in _fields(buf, g0, g1):
                    if gnum != 5:
                        continue
                    for tnum, e0, e1 in _fields(buf, t0, t1):
                        if tnum != 13:
                            continue
                        entry = {n: bytes(buf[a:b]).decode("utf-8") for n, a, b in _fields(buf, e0, e1)}
                        if entry.get(1) == "location" and entry.get(2):
                            found.add(entry[2])
    return found


def _sha256_file(file: Path) -> str:
    digest = hashlib.sha256()
    with open(file, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def folder_fingerprint(folder: str | Path) -> str:
    """The studio's ModelFolder.fingerprint of a model folder."""
    root = Path(folder).resolve()
    missing = [f for f in ("manifest.json",) + MODEL_FILES if not (root / f).is_file()]
    if missing:
        fail(f"model folder {root}: missing {', '.join(missing)}")
    external: set[str] = set()
    for tower in MODEL_FILES[:2]:
        try:
            external |= onnx_external_data(root / tower)
        except ValueError as error:
            fail(f"model folder {root}: {tower} is not an ONNX model ({error})")
    # JavaScript's default sort (UTF-16 code units) equals Python's for these names.
    others = list(MODEL_FILES) + sorted(external)
    digest = hashlib.sha256((root / "manifest.json").read_bytes())
    for name in others:
        digest.update(f"\n{name}\0{_sha256_file(root / name)}".encode("utf-8"))
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------
# Arguments


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="embed_pickscore.py",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=__doc__.split("\n\n")[0].rstrip(".") + ". Writes the embeddings Parquet "
        "file that 'pickstudio import-embeddings' loads.",
        epilog="""\
examples:
  # the model folder the studio scores with (made once by tools/export_pickscore.py):
  python tools/embed_pickscore.py --model-folder ~/models/pickscore \\
      --out emb.parquet shards/train-*.parquet            # every GPU of this machine
  pickstudio import-embeddings project.pickstudio emb.parquet
  pickstudio score project.pickstudio                     # no model run: dot products

  # the random-weight tiny model the tests use (no download):
  python tools/export_pickscore.py --random-init tiny --out /tmp/tiny --offline
  python tools/embed_pickscore.py --random-init tiny --model-folder /tmp/tiny \\
      --out emb.parquet shard.parquet

  python tools/embed_pickscore.py --print-fingerprint ~/models/pickscore
""",
    )
    parser.add_argument("shards", nargs="*", metavar="SHARD",
                        help="Pick-a-Pic Parquet shards (files, folders or globs)")
    parser.add_argument("--out", metavar="FILE.parquet", help="the embeddings file to write")
    parser.add_argument("--model-folder", metavar="DIR",
                        help="the studio's model folder of this checkpoint: its fingerprint goes "
                             "into the file, and its tokenizer.json and preprocessor_config.json "
                             "are used (unless --processor)")
    parser.add_argument("--fingerprint", metavar="HEX",
                        help="the model folder's fingerprint, when the folder is not here")
    parser.add_argument("--print-fingerprint", metavar="DIR",
                        help="print a model folder's fingerprint and exit (needs no torch)")
    parser.add_argument("--model", default=DEFAULT_MODEL, metavar="ID_OR_DIR",
                        help=f"CLIPModel on the hub or a local folder (default {DEFAULT_MODEL})")
    parser.add_argument("--revision", default=None, metavar="REV", help="hub revision of --model")
    parser.add_argument("--random-init", choices=("tiny", "b16", "h14"), default=None,
                        help="random weights as tools/export_pickscore.py --random-init makes "
                             "them (same --seed, same weights): for tests")
    parser.add_argument("--seed", type=int, default=0, help="seed of --random-init (default 0)")
    parser.add_argument("--processor", default=None, metavar="ID_OR_DIR",
                        help="where tokenizer.json and preprocessor_config.json come from "
                             f"(default: --model-folder, else {DEFAULT_PROCESSOR})")
    parser.add_argument("--batch-size", type=int, default=64, metavar="N",
                        help="prompts or images per forward pass (default 64)")
    parser.add_argument("--num-proc", type=int, default=None, metavar="N",
                        help="processes, one per GPU (default: the number of GPUs, else 1)")
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="threads per process that decode and preprocess images ahead of "
                             "the model (default: the machine's cores shared among the "
                             "processes)")
    parser.add_argument("--device", choices=("auto", "cuda", "cpu"), default="auto",
                        help="auto: CUDA when available (default)")
    parser.add_argument("--fp16", action="store_true",
                        help="float16 weights on CUDA (faster; embeddings differ slightly)")
    parser.add_argument("--offline", action="store_true",
                        help="never contact the Hugging Face hub (HF_HUB_OFFLINE=1 does the same)")
    args = parser.parse_args(argv)
    if args.print_fingerprint:
        return args
    if not args.shards or not args.out:
        parser.error("give SHARD... and --out (or --print-fingerprint DIR)")
    if not args.out.lower().endswith(".parquet"):
        parser.error("--out must name a .parquet file")
    if bool(args.model_folder) == bool(args.fingerprint):
        parser.error("give exactly one of --model-folder DIR and --fingerprint HEX")
    for name in ("batch_size", "num_proc", "workers"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.fingerprint and (len(args.fingerprint) != 64
                             or any(c not in "0123456789abcdef" for c in args.fingerprint)):
        parser.error("--fingerprint is 64 lowercase hex digits (pickstudio model add prints it)")
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        args.offline = True
    return args


def import_deps() -> SimpleNamespace:
    deps = SimpleNamespace()
    missing = []
    for name in ("torch", "transformers", "datasets", "numpy", "PIL.Image"):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                setattr(deps, name.split(".")[-1] if name != "PIL.Image" else "PIL",
                        importlib.import_module(name))
        except Exception as error:
            missing.append(f"{name} ({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''})")
    if missing:
        fail(f"{sys.executable} lacks {'; '.join(missing)}. Install: {INSTALL_HINT}")
    return deps


def shard_files(patterns: list[str]) -> list[str]:
    files: list[str] = []
    for pattern in patterns:
        path = Path(pattern)
        if path.is_dir():
            files += sorted(str(p) for p in path.rglob("*.parquet"))
        elif path.is_file():
            files.append(str(path))
        else:
            matched = sorted(str(p) for p in Path().glob(pattern)) if not path.is_absolute() \
                else sorted(str(p) for p in Path("/").glob(pattern.lstrip("/")))
            if not matched:
                fail(f"{pattern}: no such file, folder or glob match")
            files += matched
    return files


def processor_folder(args: argparse.Namespace, stage: Path) -> Path:
    """A folder holding tokenizer.json and preprocessor_config.json."""
    if args.processor is None and args.model_folder:
        return Path(args.model_folder).resolve()
    source = args.processor or DEFAULT_PROCESSOR
    if Path(source).is_dir():
        return Path(source).resolve()
    from huggingface_hub import hf_hub_download
    for file in PROCESSOR_FILES:
        try:
            downloaded = hf_hub_download(source, file, local_files_only=args.offline)
        except Exception as error:
            fail(f"cannot fetch {file} of {source}: {str(error).splitlines()[0]}")
        (stage / file).write_bytes(Path(downloaded).read_bytes())
    return stage


# ---------------------------------------------------------------------------------------------
# The work, per process (datasets.map runs these in each of --num-proc processes)

_LOADED: dict = {}


def _tools():
    if str(TOOLS) not in sys.path:
        sys.path.insert(0, str(TOOLS))
    return importlib.import_module("export_pickscore")


def _model(options: dict, rank: int | None):
    """The model, its device and the processor, loaded once per process."""
    if "model" in _LOADED:
        return _LOADED["model"]
    exporter = _tools()
    deps = import_deps()
    torch = deps.torch
    use_cuda = options["device"] == "cuda" or (options["device"] == "auto" and torch.cuda.is_available())
    device = f"cuda:{(rank or 0) % max(1, torch.cuda.device_count())}" if use_cuda else "cpu"
    if options["random_init"]:
        model = exporter.random_model(deps, SimpleNamespace(
            random_init=options["random_init"], seed=options["seed"], attn="eager"))
    else:
        kwargs = {"revision": options["revision"]} if options["revision"] else {}
        if options["offline"]:
            kwargs["local_files_only"] = True
        model = deps.transformers.CLIPModel.from_pretrained(options["model"], **kwargs)
    model = model.float().eval().to(device)
    if options["fp16"] and use_cuda:
        model = model.half()
    folder = Path(options["processor"])
    encode, _ = exporter.tokenizer_for(deps, folder)
    processor, _ = exporter.image_processor(deps, folder)
    if processor is None:
        fail(f"transformers cannot load the CLIPImageProcessor config in {folder}")
    _LOADED["model"] = (deps, exporter, model, device, encode, Preprocessing(deps, processor))
    return _LOADED["model"]


def _unit_rows(torch, features):
    features = features.float()
    return (features / features.norm(dim=-1, keepdim=True)).cpu().numpy()


def embed_prompts(batch: dict, rank: int | None = None, options: dict | None = None) -> dict:
    deps, exporter, model, device, encode, _ = _model(options, rank)
    torch = deps.torch
    input_ids, attention_mask = encode(batch["key"])
    with torch.no_grad():
        features = exporter.reference_features(
            torch, model, input_ids=torch.from_numpy(input_ids).to(device),
            attention_mask=torch.from_numpy(attention_mask).to(device))
    n = len(batch["key"])
    return {"kind": ["prompt"] * n, "key": batch["key"],
            "embedding": list(_unit_rows(torch, features)),
            "fingerprint": [options["fingerprint"]] * n}


def _preprocessing_threads(workers: int):
    """The process's threads that decode and preprocess images, made once per process."""
    if "threads" not in _LOADED:
        from concurrent.futures import ThreadPoolExecutor
        _LOADED["threads"] = ThreadPoolExecutor(max_workers=workers,
                                                thread_name_prefix="preprocess")
    return _LOADED["threads"]


def _why(error: Exception) -> str:
    """What went wrong with an image, in one line (Pillow's messages name no file)."""
    if type(error).__name__ == "UnidentifiedImageError":
        return "not an image Pillow reads"
    return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else 'no message'}"


class Preprocessing:
    """CLIPImageProcessor's work on one image, split where the GIL allows threads to scale.

    Threads running the processor on whole batches fed ViT-H on an H200 at about 290 images/s
    with 16 cores (bench/gpu/embed.sh): its numpy round trips of the full-size image hold the
    GIL, so 16 threads preprocessed only 545 images/s, 5 times one thread's 112. Its steps for
    CLIP are Pillow's resize of the shorter side, a centre crop, then per-value
    arithmetic (rescale, normalise). So the threads only decode, resize and crop in Pillow, which
    lets go of the GIL, and hand over uint8 pixels; the arithmetic is a lookup table [3, 256]
    read from the processor's own output, applied on the model's device. Both halves are checked
    against the processor alone, bit for bit, on images of several shapes and modes before use;
    where any differs (another transformers or Pillow, another config), the processor does it
    all, as before. Same machine: 16 threads now prepare 1,555 images/s, and ViT-H embeds 538."""

    def __init__(self, deps, processor):
        self.deps, self.processor = deps, processor
        self.table = None
        self._device_tables: dict = {}
        self.edge = self.crop = None
        plan = self._plan()
        if plan is None:
            return
        self.edge, self.crop = plan
        self.table = self._table()
        sample = self._sample_images()
        for data, label in sample:
            alone = processor(images=[self.open(data)], return_tensors="np")["pixel_values"]
            ours = self.pixels_on_host(self.crops([data])[0])
            if alone.shape != ours.shape or not self.deps.numpy.array_equal(alone, ours):
                log(f"  {type(processor).__name__} on a {label} differs from decoding, resizing "
                    "and cropping ahead of a lookup table: the processor does it all (slower)")
                self.table = None
                return

    @property
    def ahead(self) -> bool:
        return self.table is not None

    def _plan(self):
        """(shortest edge, (crop height, crop width)) where the config is CLIP's: resize the
        shorter side, crop the centre no larger than that; else None."""
        p = self.processor
        if not (getattr(p, "do_resize", False) and getattr(p, "do_center_crop", False)):
            return None

        def rules(size) -> dict:
            values = dict(size) if isinstance(size, dict) else {
                key: getattr(size, key) for key in dir(size) if not key.startswith("_")}
            return {key: value for key, value in values.items() if isinstance(value, int)}

        resize, crop = rules(p.size), rules(p.crop_size)
        edge = resize.pop("shortest_edge", None)
        height, width = crop.pop("height", None), crop.pop("width", None)
        if resize or crop or None in (edge, height, width) or max(height, width) > edge:
            return None
        return edge, (height, width)

    def _table(self):
        """The processor's float32 output for each value 0..255 of each channel: uniform images
        already at the resize's size, which its resize and crop leave as they are."""
        np, Image = self.deps.numpy, self.deps.PIL
        table = np.empty((3, 256), dtype=np.float32)
        for start in range(0, 256, 64):
            images = [Image.new("RGB", (self.edge, self.edge), (v, v, v))
                      for v in range(start, start + 64)]
            out = self.processor(images=images, return_tensors="np")["pixel_values"]
            table[:, start:start + 64] = out[:, :, 0, 0].T
        return table

    def _sample_images(self):
        """(encoded bytes, what it is) of the shapes and modes the checks compare on."""
        np, Image = self.deps.numpy, self.deps.PIL
        rng = np.random.default_rng(0)
        edge = self.edge
        shapes = ((512, 512, "RGB", "JPEG"), (768, 512, "RGB", "JPEG"), (333, 517, "RGB", "JPEG"),
                  (517, 333, "RGB", "JPEG"),
                  (61, 100, "RGB", "PNG"), (edge, edge + 1, "RGB", "JPEG"),
                  (300, 200, "L", "JPEG"), (200, 300, "CMYK", "JPEG"), (250, 250, "RGBA", "PNG"))
        sample = []
        for width, height, mode, kind in shapes:
            coarse = rng.integers(0, 256, size=(8, 8, 4), dtype=np.uint8)
            image = Image.fromarray(coarse, "RGBA").resize((width, height), Image.BICUBIC)
            out = io.BytesIO()
            image.convert(mode).save(out, format=kind)
            sample.append((out.getvalue(), f"{width}x{height} {mode} {kind}"))
        return sample

    def open(self, data: bytes):
        return self.deps.PIL.open(io.BytesIO(data))

    def _each(self, jpgs: list, work) -> tuple[list, list[str | None]]:
        """work(image bytes) for each image that it does not fail on, and for each image None or
        why it failed."""
        done: list = []
        failures: list[str | None] = []
        for data in jpgs:
            try:
                done.append(work(data))
            except Exception as error:
                failures.append(_why(error))
                continue
            failures.append(None)
        return done, failures

    def _crop(self, data: bytes):
        """uint8 [crop height, crop width, 3]: the image decoded, in RGB, its shorter side resized
        to the edge with the processor's filter, the centre cropped as it crops."""
        height, width = self.crop
        image = self.open(data)
        if image.mode != "RGB":
            image = image.convert("RGB")
        w, h = image.size
        grown = int(self.edge * max(w, h) / min(w, h))
        image = image.resize((self.edge, grown) if w <= h else (grown, self.edge),
                             resample=self.processor.resample)
        left, top = (image.width - width) // 2, (image.height - height) // 2
        return self.deps.numpy.asarray(image.crop((left, top, left + width, top + height)))

    def crops(self, jpgs: list):
        """uint8 [n, crop height, crop width, 3] of the images that decode (`_crop`), and for
        each image None or why it does not."""
        crops, failures = self._each(jpgs, self._crop)
        np = self.deps.numpy
        stacked = np.stack(crops) if crops else np.empty((0, *self.crop, 3), dtype=np.uint8)
        return stacked, failures

    def pixels_on_host(self, crops):
        """pixel_values, float32 [n, 3, height, width], from crops, with numpy."""
        np = self.deps.numpy
        return self.table[np.arange(3)[None, :, None, None], crops.transpose(0, 3, 1, 2)]

    def prepare(self, jpgs: list):
        """What a thread hands the model's thread: the crops, or the processor's pixel_values, of
        the images that decode; and for each image None or why it does not."""
        if self.ahead:
            return self.crops(jpgs)

        def decoded(data: bytes):
            image = self.open(data)
            image.load()
            return image

        images, failures = self._each(jpgs, decoded)
        if not images:
            return None, failures
        pixels = self.processor(images=images, return_tensors="np")["pixel_values"]
        return self.deps.numpy.ascontiguousarray(pixels, dtype=self.deps.numpy.float32), failures

    def pixels(self, prepared, device: str):
        """pixel_values as a float32 tensor on the device, from what `prepare` handed over."""
        torch = self.deps.torch
        batch = torch.from_numpy(prepared).to(device)
        if not self.ahead:
            return batch
        if device not in self._device_tables:
            self._device_tables[device] = (torch.from_numpy(self.table).to(device),
                                           torch.arange(3, device=device).view(1, 3, 1, 1))
        table, channels = self._device_tables[device]
        return table[channels, batch.permute(0, 3, 1, 2).long()]


def embed_images(batch: dict, rank: int | None = None, options: dict | None = None) -> dict:
    """One map batch of images: `workers` forward batches, prepared by the process's threads
    (Preprocessing) while the model embeds the ones ready before them, in order. Each forward
    batch is cut into a chunk per thread, so the model waits at the start of a call for one
    chunk's images, not one batch's. An image that does not decode is named and left out: one
    bad image in millions should not cost the run."""
    deps, exporter, model, device, _, preprocessing = _model(options, rank)
    torch, np = deps.torch, deps.numpy
    step = options["batch_size"]
    chunk = -(-step // options["workers"])
    threads = _preprocessing_threads(options["workers"])
    jpgs = batch["jpg"]
    pending = [[(at, threads.submit(preprocessing.prepare, jpgs[at:at + chunk]))
                for at in range(start, min(start + step, len(jpgs)), chunk)]
               for start in range(0, len(jpgs), step)]
    keys, features = [], []
    for chunks in pending:
        ready = []
        for at, part in chunks:
            prepared, failures = part.result()
            for key, failure in zip(batch["key"][at:at + len(failures)], failures):
                if failure is None:
                    keys.append(key)
                else:
                    log(f"  image {key!r} left out: it does not decode ({failure})")
            if prepared is not None and len(prepared):
                ready.append(prepared)
        if not ready:
            continue
        pixels = preprocessing.pixels(np.concatenate(ready), device)
        if options["fp16"] and device != "cpu":
            pixels = pixels.half()
        with torch.no_grad():
            features.append(_unit_rows(
                torch, exporter.reference_features(torch, model, pixel_values=pixels)))
    return {"kind": ["image"] * len(keys), "key": keys,
            "embedding": [row for rows in features for row in rows],
            "fingerprint": [options["fingerprint"]] * len(keys)}


def distinct_images(datasets, ds):
    """One row (key, jpg) per image uid, from image 0 and image 1 of every pair; rows without
    bytes are left out and counted."""
    seen: set[str] = set()
    parts = []
    for side in (0, 1):
        uids = ds[f"image_{side}_uid"]
        first = []
        for index, uid in enumerate(uids):
            if uid is not None and uid not in seen:
                seen.add(uid)
                first.append(index)
        part = ds.select(first).select_columns([f"image_{side}_uid", f"jpg_{side}"])
        parts.append(part.rename_columns({f"image_{side}_uid": "key", f"jpg_{side}": "jpg"}))
    images = datasets.concatenate_datasets(parts)
    with_bytes = images.filter(lambda row: row["jpg"] is not None and len(row["jpg"]) > 0)
    return with_bytes, len(images) - len(with_bytes)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.print_fingerprint:
        print(folder_fingerprint(args.print_fingerprint))
        return 0
    fingerprint = args.fingerprint or folder_fingerprint(args.model_folder)
    log(f"model folder fingerprint {fingerprint}")
    deps = import_deps()
    datasets, torch = deps.datasets, deps.torch
    files = shard_files(args.shards)
    gpus = torch.cuda.device_count() if args.device != "cpu" else 0
    num_proc = args.num_proc or max(1, gpus)
    if num_proc > 1 and gpus > 0:
        # CUDA in forked processes fails; datasets' own advice is spawn.
        import multiprocess
        multiprocess.set_start_method("spawn", force=True)
    workers = args.workers or max(1, (os.cpu_count() or 1) // num_proc)
    log(f"{len(files)} shard(s); {num_proc} process(es) of {workers} preprocessing thread(s); "
        f"{'CUDA, ' + str(gpus) + ' GPU(s)' if gpus and args.device != 'cpu' else 'CPU'}")
    columns = ["caption", "image_0_uid", "image_1_uid", "jpg_0", "jpg_1"]
    ds = datasets.load_dataset("parquet", data_files=files, split="train", columns=columns)
    with tempfile.TemporaryDirectory() as stage:
        options = dict(
            fingerprint=fingerprint, device=args.device, random_init=args.random_init,
            seed=args.seed, model=args.model, revision=args.revision, offline=args.offline,
            fp16=args.fp16, processor=str(processor_folder(args, Path(stage))),
            batch_size=args.batch_size, workers=workers,
        )
        features = datasets.Features({
            "kind": datasets.Value("string"), "key": datasets.Value("string"),
            "embedding": datasets.Sequence(datasets.Value("float32")),
            "fingerprint": datasets.Value("string"),
        })
        prompts = datasets.Dataset.from_dict({"key": [c for c in ds.unique("caption") if c is not None]})
        images, without_bytes = distinct_images(datasets, ds)
        log(f"{len(ds)} pairs: {len(prompts)} distinct prompts, {len(images)} distinct images"
            + (f" ({without_bytes} without bytes, left out)" if without_bytes else ""))
        common = dict(batched=True, with_rank=True, features=features,
                      num_proc=num_proc if num_proc > 1 else None,
                      fn_kwargs={"options": options})
        prompt_rows = prompts.map(embed_prompts, remove_columns=prompts.column_names,
                                  desc="prompts", batch_size=args.batch_size, **common)
        # A forward batch for each thread per call, so that every thread has one to work on.
        image_rows = images.map(embed_images, remove_columns=images.column_names,
                                desc="images", batch_size=args.batch_size * workers, **common)
        out = Path(args.out).resolve()
        partial = out.with_name(f".{out.name}.partial-{os.getpid()}")
        datasets.concatenate_datasets([prompt_rows, image_rows]).to_parquet(str(partial))
        os.replace(partial, out)
    undecodable = len(images) - len(image_rows)
    log(f"{out}: {len(prompt_rows)} prompts and {len(image_rows)} images, "
        f"fingerprint {fingerprint[:16]}"
        + (f" ({undecodable} image(s) left out: they do not decode, named above)"
           if undecodable else "")
        + f"; load it with: pickstudio import-embeddings PROJECT {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
