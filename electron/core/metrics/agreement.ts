/**
 * Agreement between raters on categorical ratings: percent agreement, Cohen's kappa (unweighted
 * and linear-weighted), Fleiss' kappa, Krippendorff's alpha (nominal and ordinal) and Gwet's AC1.
 *
 * Categories are indices 0..K-1, in their order for the ordinal and weighted statistics; for
 * verdicts see categories.ts (image 0 < tie < image 1). Missing ratings are allowed everywhere.
 *
 * All but Cohen's kappa depend only on how many ratings each item got in each category, so they
 * take a CountTable: one row of K counts per item, with an optional weight per row. A weight is a
 * multiplicity: identical rows can be merged into one (the dashboard keeps one row per distinct
 * count vector), and a bootstrap resample is a reweighting of the rows.
 *
 * Undefined values (no pair of ratings, a single category throughout) are NaN.
 */

/** Ratings as items x raters: a category index, or null where the rater did not rate the item. */
export type RatingMatrix = readonly (readonly (number | null)[])[];

export interface CountTable {
  /** K: the number of categories. */
  categories: number;
  /** Rows x K, row-major: counts[r * K + k] = ratings of category k on row r's item. */
  counts: ArrayLike<number>;
  /** Multiplicity of each row; 1 for every row when absent. */
  weights?: ArrayLike<number>;
}

function rowCount(table: CountTable): number {
  const rows = table.counts.length / table.categories;
  if (!Number.isInteger(rows)) {
    throw new RangeError(
      `counts has ${table.counts.length} entries, not a multiple of ${table.categories} categories`,
    );
  }
  return rows;
}

const weightOf = (table: CountTable, row: number): number =>
  table.weights === undefined ? 1 : table.weights[row]!;

/** The count table of an items x raters matrix (every item is a row, weight 1). */
export function countsFromRatings(ratings: RatingMatrix, categories: number): CountTable {
  const counts = new Float64Array(ratings.length * categories);
  ratings.forEach((row, item) => {
    for (const rating of row) {
      if (rating === null) continue;
      if (!Number.isInteger(rating) || rating < 0 || rating >= categories) {
        throw new RangeError(
          `item ${item}: rating ${rating} is not a category 0..${categories - 1}`,
        );
      }
      counts[item * categories + rating]! += 1;
    }
  });
  return { categories, counts };
}

// ---------------------------------------------------------------------------------------------
// Percent agreement

export interface PercentAgreement {
  /** agreeingPairs / pairs; NaN when no item has two ratings. */
  value: number;
  /** Pairs of ratings on the same item that are equal. */
  agreeingPairs: number;
  /** Pairs of ratings on the same item. */
  pairs: number;
}

/**
 * Percent agreement over pairs of ratings on the same item, pooled over items:
 *
 *   sum_i sum_k C(n_ik, 2) / sum_i C(n_i, 2)
 *
 * (n_ik: ratings of category k on item i, n_i their sum). Items with more ratings weigh more,
 * through their C(n_i, 2) pairs; with the same number of ratings on every item this equals Fleiss'
 * (1971) mean agreement P-bar. With `exclude`, ratings of that category are dropped first: for
 * verdicts, `exclude: TIE` gives agreement "without ties", over the pairs of ratings of which
 * neither is a tie.
 */
export function percentAgreement(table: CountTable, exclude?: number): PercentAgreement {
  const K = table.categories;
  const rows = rowCount(table);
  let pairs = 0;
  let agreeing = 0;
  for (let r = 0; r < rows; r++) {
    const w = weightOf(table, r);
    if (w === 0) continue;
    let m = 0;
    let same = 0;
    for (let k = 0; k < K; k++) {
      if (k === exclude) continue;
      const n = table.counts[r * K + k]!;
      m += n;
      same += (n * (n - 1)) / 2;
    }
    pairs += (w * (m * (m - 1))) / 2;
    agreeing += w * same;
  }
  return { value: pairs > 0 ? agreeing / pairs : NaN, agreeingPairs: agreeing, pairs };
}

// ---------------------------------------------------------------------------------------------
// Cohen's kappa

export type KappaWeighting = 'unweighted' | 'linear';

/**
 * Cohen's kappa from a K x K confusion matrix (row: rater A's category, column: rater B's), in
 * the disagreement-weight form
 *
 *   kappa = 1 - sum_ij v_ij O_ij / sum_ij v_ij E_ij,   E_ij = (row_i total)(column_j total) / N,
 *
 * with v_ij = [i != j] (Cohen 1960) or v_ij = |i - j| (linear weights, Cicchetti & Allison 1971;
 * Cohen 1968's weighted kappa). This is scikit-learn's `cohen_kappa_score` (weights=None /
 * 'linear'). NaN when the expected disagreement is 0 (e.g. both raters used one category only).
 */
export function cohenKappaFromMatrix(
  matrix: ArrayLike<number>,
  categories: number,
  weighting: KappaWeighting,
): number {
  const K = categories;
  const rowTotals = new Float64Array(K);
  const colTotals = new Float64Array(K);
  let total = 0;
  for (let i = 0; i < K; i++) {
    for (let j = 0; j < K; j++) {
      const o = matrix[i * K + j]!;
      rowTotals[i]! += o;
      colTotals[j]! += o;
      total += o;
    }
  }
  let observed = 0;
  let expected = 0;
  for (let i = 0; i < K; i++) {
    for (let j = 0; j < K; j++) {
      if (i === j) continue;
      const v = weighting === 'linear' ? Math.abs(i - j) : 1;
      observed += v * matrix[i * K + j]!;
      expected += (v * rowTotals[i]! * colTotals[j]!) / total;
    }
  }
  return expected > 0 ? 1 - observed / expected : NaN;
}

export interface CohenKappa {
  /** Items both raters rated. */
  items: number;
  unweighted: number;
  linear: number;
}

/** Cohen's kappa of two raters over the items both rated (null = not rated). */
export function cohenKappa(
  a: readonly (number | null)[],
  b: readonly (number | null)[],
  categories: number,
): CohenKappa {
  if (a.length !== b.length) throw new RangeError('the two raters must cover the same items');
  const matrix = new Float64Array(categories * categories);
  let items = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === null || y === null || x === undefined || y === undefined) continue;
    matrix[x * categories + y]! += 1;
    items++;
  }
  return {
    items,
    unweighted: cohenKappaFromMatrix(matrix, categories, 'unweighted'),
    linear: cohenKappaFromMatrix(matrix, categories, 'linear'),
  };
}

export interface RaterPairKappa extends CohenKappa {
  /** Column indices of the two raters in the matrix, a < b. */
  a: number;
  b: number;
}

/** Cohen's kappa for every pair of raters (columns) of an items x raters matrix. */
export function pairwiseCohenKappa(ratings: RatingMatrix, categories: number): RaterPairKappa[] {
  const raters = ratings.reduce((most, row) => Math.max(most, row.length), 0);
  const column = (c: number): (number | null)[] => ratings.map((row) => row[c] ?? null);
  const out: RaterPairKappa[] = [];
  for (let a = 0; a < raters; a++) {
    for (let b = a + 1; b < raters; b++) {
      out.push({ a, b, ...cohenKappa(column(a), column(b), categories) });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Fleiss' kappa

export interface FleissKappa {
  value: number;
  /** Items used: those with exactly `ratersPerItem` ratings (weighted). */
  items: number;
  ratersPerItem: number;
  /** Mean agreement per item, P-bar. */
  observed: number;
  /** Chance agreement, P-bar_e = sum_j p_j^2. */
  chance: number;
}

/**
 * The most common number of ratings per item among items with at least 2 (weighted by row
 * weight); on a tie, the larger number. 0 when no item has 2 ratings.
 */
export function modalRatingCount(table: CountTable): number {
  const K = table.categories;
  const rows = rowCount(table);
  const frequency = new Map<number, number>();
  for (let r = 0; r < rows; r++) {
    let m = 0;
    for (let k = 0; k < K; k++) m += table.counts[r * K + k]!;
    if (m >= 2) frequency.set(m, (frequency.get(m) ?? 0) + weightOf(table, r));
  }
  let best = 0;
  let bestFrequency = 0;
  for (const [m, f] of frequency) {
    if (f > bestFrequency || (f === bestFrequency && m > best)) {
      best = m;
      bestFrequency = f;
    }
  }
  return best;
}

/**
 * Fleiss' kappa (Fleiss 1971, "Measuring nominal scale agreement among many raters"):
 *
 *   p_j = sum_i n_ij / (N n),  P_i = (sum_j n_ij^2 - n) / (n (n - 1)),
 *   P-bar = mean_i P_i,  P-bar_e = sum_j p_j^2,  kappa = (P-bar - P-bar_e) / (1 - P-bar_e).
 *
 * Fleiss' formula assumes every item has the same number n of ratings. Items with another count
 * are left out: n is `ratersPerItem` when given, else the modal count (modalRatingCount), so with
 * missing ratings kappa is over the items rated by the usual number of raters (the result says n
 * and how many items that is). statsmodels' `fleiss_kappa(table, method='fleiss')` on those rows.
 */
export function fleissKappa(table: CountTable, ratersPerItem?: number): FleissKappa {
  const K = table.categories;
  const rows = rowCount(table);
  const n = ratersPerItem ?? modalRatingCount(table);
  const categoryTotals = new Float64Array(K);
  let items = 0;
  let agreementSum = 0;
  if (n >= 2) {
    for (let r = 0; r < rows; r++) {
      const w = weightOf(table, r);
      if (w === 0) continue;
      let m = 0;
      let squares = 0;
      for (let k = 0; k < K; k++) {
        const c = table.counts[r * K + k]!;
        m += c;
        squares += c * c;
      }
      if (m !== n) continue;
      for (let k = 0; k < K; k++) categoryTotals[k]! += w * table.counts[r * K + k]!;
      agreementSum += (w * (squares - n)) / (n * (n - 1));
      items += w;
    }
  }
  let chance = 0;
  for (let k = 0; k < K; k++) {
    const p = categoryTotals[k]! / (items * n);
    chance += p * p;
  }
  const observed = agreementSum / items;
  const value = items > 0 && chance < 1 ? (observed - chance) / (1 - chance) : NaN;
  return { value, items, ratersPerItem: n, observed: items > 0 ? observed : NaN, chance };
}

// ---------------------------------------------------------------------------------------------
// Krippendorff's alpha

export type AlphaLevel = 'nominal' | 'ordinal';

export interface KrippendorffAlpha {
  value: number;
  /** Pairable values: ratings on items with at least 2 ratings (n.. in Krippendorff's notation). */
  pairableValues: number;
}

/**
 * Krippendorff's alpha in the coincidence-matrix formulation (Krippendorff 2011, "Computing
 * Krippendorff's Alpha-Reliability", sections B and C), which allows missing ratings:
 *
 *   o_ck = sum_u (n_uc n_uk - [c = k] n_uc) / (m_u - 1)   over items u with m_u >= 2 ratings,
 *   n_c = sum_k o_ck,  n = sum_c n_c,
 *   alpha = 1 - (n - 1) sum_{c,k} o_ck d_ck / sum_{c,k} n_c n_k d_ck,
 *
 * with d_ck = [c != k] (nominal) or, for ordinal data, d_ck = (sum_{g=c..k} n_g - (n_c + n_k)/2)^2
 * (categories in index order). Matches the `krippendorff` package (`alpha(value_counts=...,
 * level_of_measurement=...)`) and the paper's worked example (alpha nominal = 0.743).
 */
export function krippendorffAlpha(table: CountTable, level: AlphaLevel): KrippendorffAlpha {
  const K = table.categories;
  const rows = rowCount(table);
  const o = new Float64Array(K * K);
  for (let r = 0; r < rows; r++) {
    const w = weightOf(table, r);
    if (w === 0) continue;
    const base = r * K;
    let m = 0;
    for (let k = 0; k < K; k++) m += table.counts[base + k]!;
    if (m < 2) continue;
    const scale = w / (m - 1);
    for (let c = 0; c < K; c++) {
      const nc = table.counts[base + c]!;
      if (nc === 0) continue;
      for (let k = 0; k < K; k++) {
        const nk = table.counts[base + k]!;
        o[c * K + k]! += scale * (c === k ? nc * (nk - 1) : nc * nk);
      }
    }
  }
  const marginals = new Float64Array(K);
  let n = 0;
  for (let c = 0; c < K; c++) {
    for (let k = 0; k < K; k++) marginals[c]! += o[c * K + k]!;
    n += marginals[c]!;
  }
  let observed = 0;
  let expected = 0;
  for (let c = 0; c < K; c++) {
    for (let k = 0; k < K; k++) {
      if (c === k) continue;
      let d = 1;
      if (level === 'ordinal') {
        let between = 0;
        for (let g = Math.min(c, k); g <= Math.max(c, k); g++) between += marginals[g]!;
        const x = between - (marginals[c]! + marginals[k]!) / 2;
        d = x * x;
      }
      observed += o[c * K + k]! * d;
      expected += marginals[c]! * marginals[k]! * d;
    }
  }
  const value = expected > 0 ? 1 - ((n - 1) * observed) / expected : NaN;
  return { value, pairableValues: n };
}

// ---------------------------------------------------------------------------------------------
// Gwet's AC1

export interface GwetAC1 {
  value: number;
  /** Percent agreement p_a (mean over items with at least 2 ratings). */
  observed: number;
  /** Chance agreement p_e. */
  chance: number;
}

/**
 * Gwet's AC1 for any number of raters with missing ratings (Gwet 2008, "Computing inter-rater
 * reliability and its variance in the presence of high agreement", BJMSP 61; Gwet 2014, Handbook
 * of Inter-Rater Reliability, 4th ed., ch. 4), as irrCAC's `gwet.ac1.raw` computes it:
 *
 *   p_a = (1 / n') sum_{i: r_i >= 2} sum_k r_ik (r_ik - 1) / (r_i (r_i - 1)),
 *   pi_k = (1 / n) sum_{i: r_i >= 1} r_ik / r_i,
 *   p_e = sum_k pi_k (1 - pi_k) / (K - 1),   AC1 = (p_a - p_e) / (1 - p_e),
 *
 * with n' the items with at least 2 ratings and n those with at least 1. K is the table's category
 * count, used or not (irrCAC's `categ.labels`).
 */
export function gwetAC1(table: CountTable): GwetAC1 {
  const K = table.categories;
  const rows = rowCount(table);
  const pi = new Float64Array(K);
  let rated = 0;
  let paired = 0;
  let agreement = 0;
  for (let r = 0; r < rows; r++) {
    const w = weightOf(table, r);
    if (w === 0) continue;
    const base = r * K;
    let m = 0;
    let same = 0;
    for (let k = 0; k < K; k++) {
      const c = table.counts[base + k]!;
      m += c;
      same += c * (c - 1);
    }
    if (m === 0) continue;
    rated += w;
    for (let k = 0; k < K; k++) pi[k]! += (w * table.counts[base + k]!) / m;
    if (m >= 2) {
      paired += w;
      agreement += (w * same) / (m * (m - 1));
    }
  }
  let chanceSum = 0;
  for (let k = 0; k < K; k++) {
    const p = pi[k]! / rated;
    chanceSum += p * (1 - p);
  }
  const chance = chanceSum / (K - 1);
  const observed = agreement / paired;
  const value = paired > 0 && chance < 1 ? (observed - chance) / (1 - chance) : NaN;
  return { value, observed: paired > 0 ? observed : NaN, chance };
}
