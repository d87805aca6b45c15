/** Counts and near misses as messages say them, the same in the CLI and in core's errors. */

const counted = new Intl.NumberFormat('en-US');

/** `1 pair`, `2 pairs`, `20,000 pairs`. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${counted.format(n)} ${n === 1 ? one : many}`;
}

/** Levenshtein distance, giving up (Infinity) past `limit`: names are short, lists can be long. */
function distance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return Infinity;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const d = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      current.push(d);
      best = Math.min(best, d);
    }
    if (best > limit) return Infinity;
    previous = current;
  }
  return previous[b.length]! <= limit ? previous[b.length]! : Infinity;
}

/**
 * The candidates `name` was probably meant to be, closest first: a namespaced one whose name
 * after the colon it is (`101` for `pickapic:101`), one it begins, or one within two edits
 * (fewer for short names, where two edits reach almost anything).
 */
export function closestNames(name: string, candidates: Iterable<string>, most = 3): string[] {
  if (name === '') return [];
  const limit = Math.min(2, Math.max(1, Math.floor(name.length / 3)));
  const found: [number, string][] = [];
  for (const candidate of candidates) {
    if (candidate === name) continue;
    const local = candidate.slice(candidate.indexOf(':') + 1);
    const d =
      local === name
        ? 0
        : candidate.startsWith(name)
          ? 1
          : Math.min(distance(name, candidate, limit), distance(name, local, limit) + 1);
    if (d <= limit + 1) found.push([d, candidate]);
  }
  found.sort(([d1, a], [d2, b]) => d1 - d2 || (a < b ? -1 : a > b ? 1 : 0));
  // `101` is pickapic:101: its neighbours pickapic:100 and pickapic:102 would only be noise.
  const exact = found.filter(([d]) => d === 0);
  return (exact.length > 0 ? exact : found).slice(0, most).map(([, candidate]) => candidate);
}

/** ` (did you mean x?)`, ` (did you mean x or y?)`, or nothing. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const names = closestNames(name, candidates);
  if (names.length === 0) return '';
  return ` (did you mean ${names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`}?)`;
}
