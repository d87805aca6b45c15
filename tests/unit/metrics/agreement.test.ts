/**
 * Agreement statistics on published examples. Reference values come from
 * tests/unit/metrics/reference/published_examples.py (scikit-learn 1.2.1, statsmodels 0.13.5,
 * numpy 1.24.2 from Debian bookworm; krippendorff = pln-fing-udelar/fast-krippendorff at commit
 * 089bfbb8, run from its source) and from the publications quoted at each value.
 */
import { describe, expect, it } from 'vitest';
import {
  cohenKappa,
  cohenKappaFromMatrix,
  countsFromRatings,
  fleissKappa,
  gwetAC1,
  krippendorffAlpha,
  modalRatingCount,
  pairwiseCohenKappa,
  percentAgreement,
  type RatingMatrix,
} from '../../../electron/core/metrics';

const CLOSE = 12; // decimal places: the references are float64 computations in another order

/**
 * Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: coders A-D
 * (columns) x units 1-12 (rows), values 1-5, as category indices 0-4 (value - 1).
 */
const K2011_CODERS = [
  [1, 2, 3, 3, 2, 1, 4, 1, 2, null, null, null],
  [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, null, 3],
  [null, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, null],
  [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, null],
];
const K2011: RatingMatrix = K2011_CODERS[0]!.map((_, unit) =>
  K2011_CODERS.map((coder) => (coder[unit] === null ? null : coder[unit]! - 1)),
);

/**
 * irrCAC's cont3x3abstractors (R package irrCAC 1.0, README): 100 pregnancies classified by two
 * abstractors into Ectopic / AIU / NIU; rows abstractor 1, columns abstractor 2.
 */
const CONT = [13, 0, 0, 0, 20, 7, 0, 4, 56];
const CONT_RATINGS: RatingMatrix = CONT.flatMap((count, cell) =>
  Array.from({ length: count }, () => [Math.floor(cell / 3), cell % 3]),
);

describe("Krippendorff's alpha", () => {
  it("reproduces Krippendorff's 2011 worked example", () => {
    const table = countsFromRatings(K2011, 5);
    // "Computing Krippendorff's Alpha-Reliability" (2011), section C: alpha_nominal = 0.743.
    expect(krippendorffAlpha(table, 'nominal').value).toBeCloseTo(0.743, 3);
    // krippendorff.alpha(data, level_of_measurement="nominal") = 0.743421052631579
    expect(krippendorffAlpha(table, 'nominal').value).toBeCloseTo(0.743421052631579, CLOSE);
    // krippendorff.alpha(data, level_of_measurement="ordinal") = 0.8153875037548814 (the
    // package's own test pins 0.815 for this data).
    expect(krippendorffAlpha(table, 'ordinal').value).toBeCloseTo(0.8153875037548814, CLOSE);
    // n.. = 40 pairable values (the paper's coincidence matrix total; unit 12 has one value).
    expect(krippendorffAlpha(table, 'nominal').pairableValues).toBeCloseTo(40, CLOSE);
  });

  it('matches the krippendorff package and irrCAC on two raters without missing values', () => {
    const table = countsFromRatings(CONT_RATINGS, 3);
    // irrCAC README, krippen2.table(cont3x3abstractors): 0.7972585;
    // krippendorff.alpha(nominal) = 0.7972584977308512.
    expect(krippendorffAlpha(table, 'nominal').value).toBeCloseTo(0.7972584977308512, CLOSE);
    // krippendorff.alpha(ordinal) = 0.8340076701821668
    expect(krippendorffAlpha(table, 'ordinal').value).toBeCloseTo(0.8340076701821668, CLOSE);
  });

  it('is undefined (NaN) without any pair of ratings or with one category only', () => {
    expect(krippendorffAlpha(countsFromRatings([[0], [1, null]], 3), 'nominal').value).toBeNaN();
    expect(
      krippendorffAlpha(
        countsFromRatings(
          [
            [2, 2],
            [2, 2],
          ],
          3,
        ),
        'ordinal',
      ).value,
    ).toBeNaN();
  });
});

describe("Gwet's AC1", () => {
  it("reproduces irrCAC's gwet.ac1.raw on Krippendorff's data (cac.raw4raters)", () => {
    // irrCAC README (kgwet/irrCAC), gwet.ac1.raw(cac.raw4raters): pa 0.8181818, pe 0.1903212,
    // AC1 0.77544. cac.raw4raters holds the same values per unit as the 2011 example (unit 12's
    // single rating is in another rater's column, which AC1 does not see). Full precision from
    // published_examples.py (irrCAC's formula): 0.775444068126995, 0.8181818181818182,
    // 0.19032118055555555.
    const ac1 = gwetAC1(countsFromRatings(K2011, 5));
    expect(ac1.value).toBeCloseTo(0.77544, 5);
    expect(ac1.observed).toBeCloseTo(0.8181818, 7);
    expect(ac1.chance).toBeCloseTo(0.1903212, 7);
    expect(ac1.value).toBeCloseTo(0.775444068126995, CLOSE);
    expect(ac1.chance).toBeCloseTo(0.19032118055555555, CLOSE);
  });

  it("reproduces irrCAC's gwet.ac1.table on cont3x3abstractors", () => {
    // irrCAC README: gwet.ac1.table(cont3x3abstractors) = 0.8493305; pa2.table = 0.89.
    const ac1 = gwetAC1(countsFromRatings(CONT_RATINGS, 3));
    expect(ac1.value).toBeCloseTo(0.8493305, 7);
    expect(ac1.observed).toBeCloseTo(0.89, CLOSE);
    expect(ac1.value).toBeCloseTo(0.8493305482313461, CLOSE);
  });
});

describe("Fleiss' kappa", () => {
  it("reproduces Wikipedia's worked example (statsmodels' fleiss_kappa)", () => {
    // Wikipedia, "Fleiss' kappa", worked example (10 subjects, 14 raters, 5 categories):
    // P-bar = 0.378, P-bar_e = 0.213, kappa = 0.210; statsmodels: 0.20993070442195522.
    const counts = [
      [0, 0, 0, 0, 14],
      [0, 2, 6, 4, 2],
      [0, 0, 3, 5, 6],
      [0, 3, 9, 2, 0],
      [2, 2, 8, 1, 1],
      [7, 7, 0, 0, 0],
      [3, 2, 6, 3, 0],
      [2, 5, 3, 2, 2],
      [6, 5, 2, 1, 0],
      [0, 2, 2, 3, 7],
    ].flat();
    const kappa = fleissKappa({ categories: 5, counts });
    expect(kappa.observed).toBeCloseTo(0.378, 3);
    expect(kappa.chance).toBeCloseTo(0.213, 3);
    expect(kappa.value).toBeCloseTo(0.20993070442195522, CLOSE);
    expect(kappa.items).toBe(10);
    expect(kappa.ratersPerItem).toBe(14);
  });

  it('uses the items with the modal number of ratings', () => {
    // Krippendorff's data: units have 3, 4, ..., 4, 3, 2, 1 values; the mode is 4 (units 2-9).
    // statsmodels fleiss_kappa on those 8 units: 0.6414565826330533.
    const table = countsFromRatings(K2011, 5);
    expect(modalRatingCount(table)).toBe(4);
    const kappa = fleissKappa(table);
    expect(kappa.items).toBe(8);
    expect(kappa.value).toBeCloseTo(0.6414565826330533, CLOSE);
  });

  it("equals Scott's pi for two raters (irrCAC's scott2.table)", () => {
    // irrCAC README: scott2.table(cont3x3abstractors) = 0.7962397; statsmodels 0.7962396962119107.
    expect(fleissKappa(countsFromRatings(CONT_RATINGS, 3)).value).toBeCloseTo(
      0.7962396962119107,
      CLOSE,
    );
  });

  it('breaks a tie between rating counts towards the larger count', () => {
    const table = countsFromRatings([[0, 0], [1, 1], [0, 0, 1], [2, 2, 2], [0]], 3);
    expect(modalRatingCount(table)).toBe(3);
  });
});

describe("Cohen's kappa", () => {
  it("reproduces irrCAC's kappa2.table and scikit-learn on cont3x3abstractors", () => {
    // irrCAC README: kappa2.table(cont3x3abstractors) = 0.7964094;
    // sklearn cohen_kappa_score: 0.7964094021839718, weights='linear': 0.8429020279920023.
    expect(cohenKappaFromMatrix(CONT, 3, 'unweighted')).toBeCloseTo(0.7964094, 7);
    expect(cohenKappaFromMatrix(CONT, 3, 'unweighted')).toBeCloseTo(0.7964094021839718, CLOSE);
    expect(cohenKappaFromMatrix(CONT, 3, 'linear')).toBeCloseTo(0.8429020279920023, CLOSE);
  });

  it("matches scikit-learn for every coder pair of Krippendorff's data, missing values dropped", () => {
    // published_examples.py, sklearn cohen_kappa_score(labels=[1..5]) over the units both rated.
    const expected = [
      [0, 1, 9, 0.8448275862068966, 0.8941176470588236],
      [0, 2, 8, 0.4782608695652174, 0.5],
      [0, 3, 9, 0.85, 0.7157894736842105],
      [1, 2, 9, 0.5423728813559321, 0.7157894736842105],
      [1, 3, 10, 0.8701298701298701, 0.855072463768116],
      [2, 3, 10, 0.6153846153846154, 0.7727272727272727],
    ] as const;
    const actual = pairwiseCohenKappa(K2011, 5);
    expect(actual.map((k) => [k.a, k.b, k.items])).toEqual(expected.map((e) => e.slice(0, 3)));
    actual.forEach((k, i) => {
      expect(k.unweighted).toBeCloseTo(expected[i]![3], CLOSE);
      expect(k.linear).toBeCloseTo(expected[i]![4], CLOSE);
    });
  });

  it('is NaN when both raters used a single category (sklearn returns nan)', () => {
    expect(cohenKappa([1, 1, 1], [1, 1, 1], 3).unweighted).toBeNaN();
  });
});

describe('percent agreement', () => {
  it("pools agreeing pairs of ratings over items (Krippendorff's data, counted by hand)", () => {
    // Pairs of values per unit: 3+6+6+6+6+6+6+6+6+3+1 = 55 (unit 12 has none); agreeing:
    // 3+3+6+6+6+0+6+3+6+3+1 = 43 (published_examples.py enumerates them: (43, 55)).
    const result = percentAgreement(countsFromRatings(K2011, 5));
    expect(result.pairs).toBe(55);
    expect(result.agreeingPairs).toBe(43);
    expect(result.value).toBeCloseTo(43 / 55, CLOSE);
  });

  it('equals the share of agreeing items for two raters (irrCAC pa2.table: 0.89)', () => {
    expect(percentAgreement(countsFromRatings(CONT_RATINGS, 3)).value).toBeCloseTo(0.89, CLOSE);
  });

  it('leaves out one category before pairing ("without ties")', () => {
    // Items (image 0 / tie / image 1 = 0 / 1 / 2): [0, 0, 1] -> pairs without a tie: (0, 0):
    // 1 agreeing of 1; [0, 2, 1] -> (0, 2): 0 of 1; [1, 1] -> none; [2, 2, 2] -> 3 of 3.
    const table = countsFromRatings(
      [
        [0, 0, 1],
        [0, 2, 1],
        [1, 1],
        [2, 2, 2],
      ],
      3,
    );
    expect(percentAgreement(table, 1)).toEqual({ value: 4 / 5, agreeingPairs: 4, pairs: 5 });
    // With ties: 1 + 0 + 1 + 3 = 5 agreeing of 3 + 3 + 1 + 3 = 10.
    expect(percentAgreement(table).value).toBe(0.5);
  });
});

describe('weights', () => {
  it('treats a row weight as that many copies of the row', () => {
    const rows: RatingMatrix = [
      [0, 0, 1],
      [2, 2, 2],
      [1, 2, null],
      [0, 1, 2],
    ];
    const copies = [3, 1, 2, 4];
    const expanded = countsFromRatings(
      rows.flatMap((row, i) => Array.from({ length: copies[i]! }, () => row)),
      3,
    );
    const weighted = { ...countsFromRatings(rows, 3), weights: copies };
    for (const level of ['nominal', 'ordinal'] as const) {
      expect(krippendorffAlpha(weighted, level).value).toBeCloseTo(
        krippendorffAlpha(expanded, level).value,
        CLOSE,
      );
    }
    expect(gwetAC1(weighted).value).toBeCloseTo(gwetAC1(expanded).value, CLOSE);
    expect(fleissKappa(weighted).value).toBeCloseTo(fleissKappa(expanded).value, CLOSE);
    expect(percentAgreement(weighted).value).toBeCloseTo(percentAgreement(expanded).value, CLOSE);
  });
});
