"""Compares two embeddings files of tools/embed_pickscore.py (say CPU and CUDA) row by row, and
the p0 each gives to the pairs of a shard (PickScore's formula, logit scale 100).

    python3 bench/gpu/compare.py A.parquet B.parquet SHARD.parquet
"""
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
from export_pickscore import pickscore  # noqa: E402  (the formula the exporter's check uses)

# What --random-init sets, as PickScore's own checkpoint has it.
LOGIT_SCALE = 100.0


def vectors(file: str) -> dict:
    table = pq.read_table(file).to_pydict()
    return {(k, key): np.asarray(v, dtype=np.float64)
            for k, key, v in zip(table["kind"], table["key"], table["embedding"])}


def p0(vec: dict, caption: str, uid0: str, uid1: str) -> float:
    return pickscore(np, LOGIT_SCALE, vec[("prompt", caption)], vec[("image", uid0)],
                     vec[("image", uid1)])[2]


def main() -> None:
    a, b = vectors(sys.argv[1]), vectors(sys.argv[2])
    if a.keys() != b.keys():
        sys.exit(f"different rows: {len(a)} against {len(b)}")
    component = max(float(np.max(np.abs(a[k] - b[k]))) for k in a)
    shard = pq.read_table(sys.argv[3], columns=["caption", "image_0_uid", "image_1_uid"]).to_pydict()
    pairs = list(zip(shard["caption"], shard["image_0_uid"], shard["image_1_uid"]))
    diff = max(abs(p0(a, *p) - p0(b, *p)) for p in pairs)
    print(f"{len(a)} embeddings: max |component diff| {component:.3g}; "
          f"{len(pairs)} pairs: max |p0 diff| {diff:.3g}")


if __name__ == "__main__":
    main()
