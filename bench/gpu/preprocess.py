"""Images/s of tools/embed_pickscore.py's preprocessing alone (no model), on 1, 2, 4 ... up to
every core's threads: CLIPImageProcessor on each chunk of images (what the tool did before), and
the tool's threads' part now (decode, resize and crop to uint8; the lookup table that follows
runs on the model's device, not counted). Each figure is the median of RUNS passes; the two ways
alternate within each thread count, so both see the same machine.

    python3 bench/gpu/preprocess.py SHARD.parquet PROCESSOR_DIR [IMAGES] [RUNS]
"""
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import embed_pickscore  # noqa: E402
import export_pickscore  # noqa: E402

CHUNK = 16


def main() -> None:
    shard, folder = sys.argv[1], Path(sys.argv[2])
    images = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    deps = embed_pickscore.import_deps()
    processor, _ = export_pickscore.image_processor(deps, folder)
    preprocessing = embed_pickscore.Preprocessing(deps, processor)
    if not preprocessing.ahead:
        sys.exit("the tool's threads run the processor for this config: nothing to compare")
    jpgs = pq.read_table(shard, columns=["jpg_0"]).column(0).to_pylist()[:images]
    chunks = [jpgs[at:at + CHUNK] for at in range(0, len(jpgs), CHUNK)]
    cores = os.cpu_count() or 1
    counts = sorted({min(cores, 2 ** k) for k in range(0, cores.bit_length() + 1)})
    ways = {
        "processor": lambda part: processor(
            images=[preprocessing.open(data) for data in part], return_tensors="np"),
        "crops": preprocessing.crops,
    }
    print(f"{len(jpgs)} images, chunks of {CHUNK}, median of {runs}; {cores} cores")
    for threads in counts:
        rates = {name: [] for name in ways}
        with ThreadPoolExecutor(threads) as pool:
            for _ in range(runs):
                for name, way in ways.items():
                    start = time.perf_counter()
                    for _ in pool.map(way, chunks):
                        pass
                    rates[name].append(len(jpgs) / (time.perf_counter() - start))
        medians = {name: statistics.median(values) for name, values in rates.items()}
        before, after = medians.values()
        print(f"{threads:3d} threads: " + ", ".join(
            f"{name} {rate:7.0f} images/s" for name, rate in medians.items())
            + f"  ({after / before:.2f}x)")


if __name__ == "__main__":
    main()
