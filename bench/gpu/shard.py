"""A Pick-a-Pic shard of made-up pairs for bench/gpu/embed.sh, in the whole schema so that the
studio imports it too: N pairs, each image shared by two neighbouring pairs (so N distinct
images), smooth 512x512 JPEGs, N/8 prompts, every pair unlabeled.

    python3 bench/gpu/shard.py OUT.parquet N
"""
import datetime
import io
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image


def jpeg(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, size=(8, 8, 3), dtype=np.uint8)
    image = Image.fromarray(coarse).resize((512, 512), Image.BICUBIC)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


def main() -> None:
    out, n = sys.argv[1], int(sys.argv[2])
    images = [jpeg(i) for i in range(n)]
    uid0 = [f"img-{i}" for i in range(n)]
    uid1 = [f"img-{(i + 1) % n}" for i in range(n)]
    table = pa.table({
        "are_different": [True] * n,
        "best_image_uid": pa.array([None] * n, pa.string()),
        "caption": [f"a made-up prompt number {i % max(1, n // 8)}" for i in range(n)],
        "created_at": pa.array([datetime.datetime(2023, 4, 1, 12)] * n, pa.timestamp("us")),
        "has_label": [False] * n,
        "image_0_uid": uid0,
        "image_0_url": [f"https://images.example/{u}.jpg" for u in uid0],
        "image_1_uid": uid1,
        "image_1_url": [f"https://images.example/{u}.jpg" for u in uid1],
        "jpg_0": pa.array(images, pa.binary()),
        "jpg_1": pa.array([images[(i + 1) % n] for i in range(n)], pa.binary()),
        "label_0": pa.array([None] * n, pa.float64()),
        "label_1": pa.array([None] * n, pa.float64()),
        "model_0": ["made-up"] * n,
        "model_1": ["made-up"] * n,
        "num_example_per_prompt": pa.array([1] * n, pa.int64()),
        "ranking_id": pa.array(range(n), pa.int64()),
        "user_id": pa.array([None] * n, pa.int64()),
    })
    pq.write_table(table, out, row_group_size=256)
    print(f"{out}: {n} pairs, {n} distinct images")


if __name__ == "__main__":
    main()
