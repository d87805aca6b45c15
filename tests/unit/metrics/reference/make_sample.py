"""Writes pick-sample.json: a small synthetic verdict table for the metrics tests (run once; the
JSON is committed). 300 pairs, 5 annotators, 0 to 4 verdicts per pair, p0 for ~90% of pairs.

    python3 make_sample.py && npx prettier --write pick-sample.json
    (numpy: Debian bookworm's python3-numpy 1.24; prettier: the repo's format check covers JSON)
"""
import json
import math
from pathlib import Path

import numpy as np

rng = np.random.default_rng(20240501)
ANNOTATORS = ["alice", "bob", "carol", "dan", "erin"]
BIAS = [0.0, 0.4, -0.3, 0.0, 1.2]  # erin leans towards image 0
TIE_RATE = [0.05, 0.10, 0.15, 0.20, 0.08]
PAIRS = 300
# p0 values at the protocol's edges: exact ties, |p1 - p0| at a threshold, certainty.
SPECIAL_P0 = {0: 0.5, 1: 0.55, 2: 0.45, 3: 0.95, 4: 1.0, 5: 0.0, 6: 0.6, 7: 0.4, 8: 0.1, 9: 0.75}


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


p0 = []
annotations = []
for pair in range(PAIRS):
    z = rng.normal()
    scored = rng.random() < 0.9
    value = round(sigmoid(1.5 * z + 0.7 * rng.normal()), 3) if scored else None
    p0.append(SPECIAL_P0.get(pair, value))
    k = 0 if pair >= PAIRS - 5 else int(rng.choice([1, 2, 3, 3, 3, 4, 4]))
    raters = rng.choice(len(ANNOTATORS), size=k, replace=False)
    for a in raters:
        a = int(a)
        if rng.random() < TIE_RATE[a]:
            verdict = "tie"
        else:
            verdict = "0" if rng.random() < sigmoid(2 * z + BIAS[a]) else "1"
        left = int(rng.integers(2))
        duration = None if rng.random() < 0.1 else int(rng.lognormal(7.6, 0.5))
        annotations.append([pair, a, verdict, left, duration])

out = {"annotators": ANNOTATORS, "p0": p0, "annotations": annotations}
Path(__file__).with_name("pick-sample.json").write_text(json.dumps(out, separators=(",", ":")) + "\n")
print(f"{PAIRS} pairs, {len(annotations)} verdicts")
