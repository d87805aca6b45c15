"""Reference values for the agreement statistics on published examples (tests/unit/metrics/
agreement.test.ts). Run with Debian bookworm's packages (python3-sklearn 1.2.1,
python3-statsmodels 0.13.5, python3-numpy 1.24.2) and the `krippendorff` package
(pip install krippendorff; pln-fing-udelar/fast-krippendorff):

    python3 published_examples.py

Gwet's AC1 has no Python reference here: it is computed by the formula of irrCAC's gwet.ac1.raw
(R package irrCAC 1.0, kgwet/irrCAC R/agree.coeff3.raw.r), transcribed below, and checked
against the values irrCAC's README prints for the same data.
"""
import itertools
from collections import Counter

import krippendorff
import numpy as np
import sklearn
import statsmodels
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa

nan = np.nan


def counts_table(rows, categories):
    """items x categories counts from items x raters ratings (None = missing)."""
    return np.array([[sum(1 for r in row if r == k) for k in categories] for row in rows])


def gwet_ac1(rows, categories):
    """irrCAC gwet.ac1.raw, unweighted: pa over items with >= 2 ratings, pi over items rated."""
    table = counts_table(rows, categories).astype(float)
    r = table.sum(axis=1)
    rated = r >= 1
    two = r >= 2
    pa = np.sum((table * (table - 1)).sum(axis=1)[two] / (r * (r - 1))[two]) / two.sum()
    pi = (table[rated] / r[rated][:, None]).sum(axis=0) / rated.sum()
    q = len(categories)
    pe = np.sum(pi * (1 - pi)) / (q - 1)
    return (pa - pe) / (1 - pe), pa, pe


def pooled_percent(rows, exclude=None):
    agree = total = 0
    for row in rows:
        values = [v for v in row if v is not None and v != exclude]
        for x, y in itertools.combinations(values, 2):
            total += 1
            agree += x == y
    return agree, total


def modal_fleiss(rows, categories):
    sizes = Counter(sum(v is not None for v in row) for row in rows)
    sizes = {m: f for m, f in sizes.items() if m >= 2}
    n = max(sizes, key=lambda m: (sizes[m], m))
    kept = [row for row in rows if sum(v is not None for v in row) == n]
    return fleiss_kappa(counts_table(kept, categories), method="fleiss"), len(kept), n


def pairwise_cohen(rows, raters, categories):
    out = []
    for a, b in itertools.combinations(range(raters), 2):
        both = [(row[a], row[b]) for row in rows if row[a] is not None and row[b] is not None]
        x = [u for u, _ in both]
        y = [v for _, v in both]
        out.append((a, b, len(both),
                    cohen_kappa_score(x, y, labels=categories),
                    cohen_kappa_score(x, y, labels=categories, weights="linear")))
    return out


if __name__ == "__main__":
    print(f"# sklearn {sklearn.__version__}, statsmodels {statsmodels.__version__}, numpy {np.__version__}, "
          f"krippendorff {getattr(krippendorff, '__version__', '?')}")

    # --- Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 coders x 12 units.
    K2011 = [  # coders A, B, C, D (rows of the paper's table), units 1..12
        [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    ]
    units = [list(u) for u in zip(*K2011)]  # items x raters
    cats5 = [1, 2, 3, 4, 5]
    data = [[nan if v is None else v for v in coder] for coder in K2011]
    print("K2011 krippendorff nominal", repr(krippendorff.alpha(data, level_of_measurement="nominal")))
    print("K2011 krippendorff ordinal", repr(krippendorff.alpha(data, level_of_measurement="ordinal")))
    print("K2011 gwet ac1 (value, pa, pe)", *map(repr, gwet_ac1(units, cats5)))
    print("K2011 pooled percent (agree, pairs)", pooled_percent(units))
    print("K2011 fleiss on modal-count units (kappa, units, raters)", *map(repr, modal_fleiss(units, cats5)))
    for a, b, n, u, l in pairwise_cohen(units, 4, cats5):
        print(f"K2011 cohen coders {a},{b}: items {n} unweighted {u!r} linear {l!r}")

    # --- irrCAC's cont3x3abstractors (100 pregnancies x 2 abstractors, 3 ordered categories).
    CONT = [[13, 0, 0], [0, 20, 7], [0, 4, 56]]
    pairs = [(i, j) for i in range(3) for j in range(3) for _ in range(CONT[i][j])]
    rows = [[i, j] for i, j in pairs]
    cats3 = [0, 1, 2]
    x = [i for i, _ in pairs]
    y = [j for _, j in pairs]
    print("CONT cohen unweighted", repr(cohen_kappa_score(x, y, labels=cats3)))
    print("CONT cohen linear", repr(cohen_kappa_score(x, y, labels=cats3, weights="linear")))
    print("CONT krippendorff nominal", repr(krippendorff.alpha([x, y], level_of_measurement="nominal")))
    print("CONT krippendorff ordinal", repr(krippendorff.alpha([x, y], level_of_measurement="ordinal")))
    print("CONT fleiss (2 raters = Scott's pi)", repr(fleiss_kappa(counts_table(rows, cats3), method="fleiss")))
    print("CONT gwet ac1 (value, pa, pe)", *map(repr, gwet_ac1(rows, cats3)))

    # --- Wikipedia, "Fleiss' kappa", worked example: 10 subjects, 14 raters, 5 categories.
    WIKI = np.array([
        [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
    ])
    print("WIKI fleiss", repr(fleiss_kappa(WIKI, method="fleiss")))
