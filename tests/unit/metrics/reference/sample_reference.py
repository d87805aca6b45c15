"""Reference values for computeDashboard on pick-sample.json (tests/unit/metrics/dashboard.test.ts),
each from an implementation other than ours:

- agreement: scikit-learn's cohen_kappa_score, statsmodels' fleiss_kappa, the `krippendorff`
  package, Gwet's AC1 by irrCAC's formula (published_examples.gwet_ac1), pooled percent
  agreement by enumerating pairs of verdicts;
- per annotator and calibration: plain Python over the verdict rows (Counter, statistics.median,
  numpy.searchsorted on numpy.linspace edges), and scikit-learn's calibration_curve;
- bootstrap: numpy's own generator, B = 20000 resamples of the 295 judged pairs, each statistic
  recomputed with the libraries above, percentiles 2.5 and 97.5 (numpy.percentile), plus the
  standard deviation of each bootstrap distribution (the test's tolerance is a fraction of it).

    python3 sample_reference.py        (versions: see published_examples.py; takes a few minutes)
"""
import itertools
import json
import statistics
from collections import Counter
from pathlib import Path

import krippendorff
import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa

from published_examples import gwet_ac1
from pickscore_protocol import get_pred, calc_score

CAT = {"0": 0, "tie": 1, "1": 2}
sample = json.loads(Path(__file__).with_name("pick-sample.json").read_text())
names = sample["annotators"]
p0 = sample["p0"]
rows = sample["annotations"]
A = len(names)
# items x raters (category or None), judged pairs only, in pair order
by_pair = {}
for pair, a, v, left, dur in rows:
    by_pair.setdefault(pair, [None] * A)[a] = CAT[v]
pairs = sorted(by_pair)
items = [by_pair[p] for p in pairs]
counts = np.array([[sum(1 for r in row if r == k) for k in range(3)] for row in items])


def pooled(items_, exclude=None):
    agree = total = 0
    for row in items_:
        values = [v for v in row if v is not None and v != exclude]
        for x, y in itertools.combinations(values, 2):
            total += 1
            agree += x == y
    return agree / total, total


def fleiss_modal(counts_, n):
    kept = counts_[counts_.sum(axis=1) == n]
    return fleiss_kappa(kept, method="fleiss"), len(kept)


sizes = Counter(int(m) for m in counts.sum(axis=1) if m >= 2)
modal = max(sizes, key=lambda m: (sizes[m], m))


def cohen(items_, a, b, weights):
    both = [(row[a], row[b]) for row in items_ if row[a] is not None and row[b] is not None]
    return cohen_kappa_score([x for x, _ in both], [y for _, y in both], labels=[0, 1, 2], weights=weights), len(both)


def statistics_of(items_, counts_):
    value_counts = counts_
    return {
        "percent": pooled(items_)[0],
        "noTies": pooled(items_, exclude=1)[0],
        "fleiss": fleiss_modal(counts_, modal)[0],
        "kNominal": krippendorff.alpha(value_counts=value_counts, level_of_measurement="nominal"),
        "kOrdinal": krippendorff.alpha(value_counts=value_counts, level_of_measurement="ordinal"),
        "ac1": gwet_ac1(items_, [0, 1, 2])[0],
    }


out = {"modalRaters": modal, "fleissPairs": fleiss_modal(counts, modal)[1]}
out["percentPairs"] = pooled(items)[1]
out["noTiesPairs"] = pooled(items, exclude=1)[1]
out["point"] = statistics_of(items, counts)
out["cohen"] = []
for a, b in itertools.combinations(range(A), 2):
    u, n = cohen(items, a, b, None)
    l, _ = cohen(items, a, b, "linear")
    out["cohen"].append({"a": names[a], "b": names[b], "common": n, "unweighted": u, "linear": l})

# ---- PickScore protocol at the tuned threshold (all rows; see pickscore_protocol.py): 0.2
THRESHOLD = 0.2
LABEL = {"0": "0", "1": "1", "tie": "tie"}

# ---- per annotator
per = []
for a in range(A):
    mine = [r for r in rows if r[1] == a]
    ties = sum(1 for r in mine if r[2] == "tie")
    non_ties = [r for r in mine if r[2] != "tie"]
    left = sum(1 for r in non_ties if int(r[2]) == r[3])
    agree = compared = no_majority = 0
    for pair, _, v, _, _ in mine:
        others = [CAT[r[2]] for r in rows if r[0] == pair and r[1] != a]
        if not others:
            continue
        top = Counter(others).most_common()
        if len(top) > 1 and top[0][1] == top[1][1]:
            no_majority += 1
            continue
        compared += 1
        agree += top[0][0] == CAT[v]
    scores = [calc_score(LABEL[v], get_pred(p0[pair], 1 - p0[pair], THRESHOLD))
              for pair, _, v, _, _ in mine if p0[pair] is not None]
    durations = [r[4] for r in mine if r[4] is not None]
    per.append({
        "annotator": names[a], "verdicts": len(mine), "ties": ties, "tieRate": ties / len(mine),
        "majorityAgreement": agree / compared, "majorityPairs": compared, "noMajorityPairs": no_majority,
        "pickscoreAgreement": sum(scores) / len(scores), "pickscoreVerdicts": len(scores),
        "leftRate": left / len(non_ties), "nonTieVerdicts": len(non_ties),
        "medianDecisionMs": statistics.median(durations), "timedVerdicts": len(durations),
    })
out["annotators"] = per

# ---- calibration: one observation per verdict on a scored pair; ties count 0.5
obs = [(p0[pair], {"0": 1.0, "tie": 0.5, "1": 0.0}[v]) for pair, _, v, _, _ in rows if p0[pair] is not None]
edges = np.linspace(0, 1, 11)
bins = np.searchsorted(edges[1:-1], [p for p, _ in obs])
cal = []
ece = 0.0
for b in range(10):
    members = [o for o, bb in zip(obs, bins) if bb == b]
    if members:
        mean_p = sum(p for p, _ in members) / len(members)
        share = sum(y for _, y in members) / len(members)
        ece += len(members) / len(obs) * abs(share - mean_p)
        cal.append({"bin": b, "verdicts": len(members), "meanP0": mean_p, "humanShare0": share})
    else:
        cal.append({"bin": b, "verdicts": 0, "meanP0": None, "humanShare0": None})
out["calibration"] = {"bins": cal, "ece": ece, "verdicts": len(obs)}
no_ties = [(p, y) for p, y in obs if y != 0.5]
prob_true, prob_pred = calibration_curve([y for _, y in no_ties], [p for p, _ in no_ties], n_bins=10, strategy="uniform")
out["sklearnCalibrationNoTies"] = {"probTrue": list(prob_true), "probPred": list(prob_pred)}

# ---- bootstrap over judged pairs
rng = np.random.default_rng(12345)
B = 20000
n = len(items)
acc_rows = [(pairs.index(pair), calc_score(LABEL[v], get_pred(p0[pair], 1 - p0[pair], THRESHOLD)))
            for pair, _, v, _, _ in rows if p0[pair] is not None]
item_score = np.zeros(n)
item_scored = np.zeros(n)
for i, s in acc_rows:
    item_score[i] += s
    item_scored[i] += 1
reps = {k: [] for k in ["percent", "noTies", "fleiss", "kNominal", "kOrdinal", "ac1", "accuracy", "cohenAliceBobU", "cohenAliceBobL"]}
for _ in range(B):
    drawn = rng.integers(0, n, size=n)
    its = [items[i] for i in drawn]
    st = statistics_of(its, counts[drawn])
    for k, v in st.items():
        reps[k].append(v)
    reps["accuracy"].append(item_score[drawn].sum() / item_scored[drawn].sum())
    reps["cohenAliceBobU"].append(cohen(its, 0, 1, None)[0])
    reps["cohenAliceBobL"].append(cohen(its, 0, 1, "linear")[0])
out["bootstrap"] = {
    k: {"lower": float(np.nanpercentile(v, 2.5)), "upper": float(np.nanpercentile(v, 97.5)), "sd": float(np.nanstd(v))}
    for k, v in reps.items()
}
out["bootstrap"]["B"] = B
print(json.dumps(out, indent=1))
