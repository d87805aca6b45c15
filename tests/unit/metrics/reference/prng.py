"""Reference outputs for electron/core/metrics/prng.ts and bootstrap.ts (tests/unit/metrics/
bootstrap.test.ts): a transcription of sfc32 as PractRand 0.95 defines it (src/RNGs/sfc.cpp,
sfc32::raw32 and sfc32::seed(Uint64)), the multiply-shift index, and a full percentile
bootstrap of Krippendorff's alpha computed with the `krippendorff` package and numpy.percentile.

    python3 prng.py       (numpy 1.24, krippendorff; see published_examples.py)
"""
import krippendorff
import numpy as np

M = 0xFFFFFFFF


class Sfc32:
    def __init__(self, seed):
        self.a, self.b, self.c, self.counter = 0, seed & M, (seed >> 32) & M, 1
        for _ in range(12):
            self.raw32()

    def raw32(self):
        tmp = (self.a + self.b + self.counter) & M
        self.counter = (self.counter + 1) & M
        self.a = self.b ^ (self.b >> 9)
        self.b = (self.c + (self.c << 3)) & M
        self.c = (((self.c << 21) | (self.c >> 11)) & M) + tmp & M
        return tmp

    def index(self, n):
        return (self.raw32() * n) >> 32


for seed in (0, 1, 42, 2**32 + 5):
    g = Sfc32(seed)
    print(f"seed {seed}: raw32", [g.raw32() for _ in range(6)])
g = Sfc32(7)
print("seed 7: index(1000) x 8", [g.index(1000) for _ in range(8)])

# Bootstrap of Krippendorff's alpha (nominal) over the items of a small verdict table: 40
# resamples of the 12 items, each drawn as 12 indices in order from Sfc32(2024), then the 2.5%
# and 97.5% percentiles (numpy's default linear method) of the 40 alphas.
ITEMS = [  # verdict counts per item: image 0, tie, image 1
    [3, 0, 0], [2, 1, 0], [0, 0, 3], [1, 0, 2], [2, 0, 1], [0, 3, 0],
    [1, 1, 1], [3, 0, 0], [0, 1, 2], [0, 0, 2], [2, 0, 0], [1, 0, 1],
]
counts = np.array(ITEMS)
print("alpha nominal, full sample", repr(krippendorff.alpha(value_counts=counts, level_of_measurement="nominal")))
g = Sfc32(2024)
alphas = []
for _ in range(40):
    drawn = [g.index(len(ITEMS)) for _ in range(len(ITEMS))]
    alphas.append(krippendorff.alpha(value_counts=counts[drawn], level_of_measurement="nominal"))
print("bootstrap 40 x 12, seed 2024: percentiles 2.5, 97.5", [repr(x) for x in np.percentile(alphas, [2.5, 97.5])])
print("numpy.percentile([3, 1, 4, 1, 5, 9, 2, 6], [2.5, 50, 97.5])", [repr(x) for x in np.percentile([3, 1, 4, 1, 5, 9, 2, 6], [2.5, 50, 97.5])])
