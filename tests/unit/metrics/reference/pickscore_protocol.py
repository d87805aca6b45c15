"""Reference values for the PickScore protocol (tests/unit/metrics/pickscore-protocol.test.ts and
dashboard.test.ts): the functions of yuvalkirstain/PickScore trainer/scripts/
eval_preference_predictor.py (commit 11584a5), transcribed with the dataset rows as dicts and
prob_1 = 1 - prob_0, run on pick-sample.json (one row per verdict on a scored pair, as the
script has one row per user judgement).

    python3 pickscore_protocol.py      (standard library + numpy)
"""
import json
from pathlib import Path

import numpy as np


# ---- eval_preference_predictor.py, as written there
def get_label(example):
    if example["label_0"] == 0.5:
        label = "tie"
    elif example["label_0"] == 1:
        label = "0"
    else:
        label = "1"
    return label


def get_pred(prob_0, prob_1, threshold):
    if abs(prob_1 - prob_0) <= threshold:
        pred = "tie"
    elif prob_0 > prob_1:
        pred = "0"
    else:
        pred = "1"
    return pred


def calc_score(label, pred):
    if label == pred:
        score = 1
    elif "tie" in [label, pred]:
        score = 0.5
    else:
        score = 0
    return score


def calc_acc(probs, ds, threshold):
    res = []
    for example, (prob_0, prob_1) in zip(ds, probs):
        label = get_label(example)
        pred = get_pred(prob_0, prob_1, threshold)
        score = calc_score(label, pred)
        res.append(score)
    return sum(res) / len(res)


def calc_random_scores(ds, thresholds):
    total = len(ds)
    num_ties = len([x for x in ds if x["label_0"] == 0.5])  # ds.filter(lambda x: x["label_0"] == 0.5)
    num_no_ties = total - num_ties
    return [((threshold * 1 + ((1 - threshold) / 2)) * num_ties / total) + ((num_no_ties / total) * 0.5)
            for threshold in thresholds]


thresholds = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]
LABEL_0 = {"0": 1.0, "1": 0.0, "tie": 0.5}


def run(tuning, test):
    """main(): tune on `tuning` (validation_unique), report on `test` (test_unique)."""
    t_probs = [(p0, 1 - p0) for p0, _ in tuning]
    t_ds = [{"label_0": LABEL_0[v]} for _, v in tuning]
    e_probs = [(p0, 1 - p0) for p0, _ in test]
    e_ds = [{"label_0": LABEL_0[v]} for _, v in test]
    validation = [calc_acc(t_probs, t_ds, t) for t in thresholds]
    best = int(np.argmax(validation))
    return {
        "tuning": validation,
        "evaluation": [calc_acc(e_probs, e_ds, t) for t in thresholds],
        "threshold": thresholds[best],
        "test_acc": calc_acc(e_probs, e_ds, thresholds[best]),
        "random": calc_random_scores(e_ds, thresholds),
        "n": (len(tuning), len(test)),
    }


if __name__ == "__main__":
    sample = json.loads(Path(__file__).with_name("pick-sample.json").read_text())
    p0 = sample["p0"]
    rows = [(pair, verdict) for pair, _, verdict, _, _ in sample["annotations"] if p0[pair] is not None]
    examples = [(p0[pair], verdict) for pair, verdict in rows]
    print("# all verdicts on scored pairs, tuned and reported on the same rows")
    print(json.dumps(run(examples, examples)))
    print("# tuning = even pair indices, evaluation = odd")
    tune = [(p0[pair], v) for pair, v in rows if pair % 2 == 0]
    test = [(p0[pair], v) for pair, v in rows if pair % 2 == 1]
    print(json.dumps(run(tune, test)))
    print("# per pair, get_pred at t = 0.1 for the pairs with special p0 (0..9)")
    print([get_pred(p0[i], 1 - p0[i], 0.1) for i in range(10)])
    print("# the hand example of pickscore-protocol.test.ts")
    hand = [(0.9, "0"), (0.7, "tie"), (0.52, "1"), (0.2, "1"), (0.45, "tie")]
    print(json.dumps(run(hand, hand)))
