import type { Estimate, Interval } from '../../../shared/audit';

/** Where a figure is undefined (no verdicts, one annotator, no model): a dash, never NaN. */
export const NONE = '—';

const count = new Intl.NumberFormat('en');

export function formatCount(n: number): string {
  return count.format(n);
}

/** A share as a percentage with one decimal: 0.7128 → "71.3%". */
export function formatPercent(value: number | null): string {
  return value === null ? NONE : `${(value * 100).toFixed(1)}%`;
}

/** A coefficient (κ, α, AC1) with three decimals; the sign kept, since below zero means worse than chance. */
export function formatCoefficient(value: number | null): string {
  return value === null ? NONE : value.toFixed(3);
}

/** A probability or threshold with two decimals, as PickScore's protocol writes them. */
export function formatProbability(value: number | null): string {
  return value === null ? NONE : value.toFixed(2);
}

export type Scale = 'percent' | 'coefficient';

function formatOn(scale: Scale, value: number): string {
  return scale === 'percent' ? (value * 100).toFixed(1) : value.toFixed(3);
}

/** An interval on the figure's scale, without units: "[69.1, 73.5]" or "[0.690, 0.731]". */
export function formatInterval(interval: Interval, scale: Scale): string {
  return `[${formatOn(scale, interval.lower)}, ${formatOn(scale, interval.upper)}]`;
}

/** A figure with its interval where there is one: "71.3% [69.1, 73.5]", "0.712 [0.690, 0.731]". */
export function formatEstimate(estimate: Estimate, scale: Scale): string {
  if (estimate.value === null) return NONE;
  const value =
    scale === 'percent' ? formatPercent(estimate.value) : formatCoefficient(estimate.value);
  return estimate.interval ? `${value} ${formatInterval(estimate.interval, scale)}` : value;
}

export function formatMs(ms: number | null): string {
  if (ms === null) return NONE;
  return ms < 10_000 ? `${count.format(Math.round(ms))} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** A phrase made to start a heading or a button: "image 0" → "Image 0". */
export function sentenceCase(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** A day (yyyy-mm-dd, local time, as a date input gives it) as ms since the epoch. */
export function dayStart(day: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return undefined;
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(y, m - 1, d).getTime();
}

/** The first moment after a day (local time): a date range's end includes its last day. */
export function dayEnd(day: string): number | undefined {
  const start = dayStart(day);
  if (start === undefined) return undefined;
  const date = new Date(start);
  date.setDate(date.getDate() + 1);
  return date.getTime();
}

/** The local day (yyyy-mm-dd) a moment falls on, as a date input shows it. */
export function dayOf(ms: number): string {
  const date = new Date(ms);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** For chart tooltips and ticks, whose values come untyped: a number formatted, else nothing. */
export const chartPercent = (value: unknown): string =>
  typeof value === 'number' ? formatPercent(value) : '';
export const chartProbability = (value: unknown): string =>
  typeof value === 'number' ? formatProbability(value) : '';
/** Axis ticks in whole percent: "75%". */
export const chartPercentTick = (value: unknown): string =>
  typeof value === 'number' ? `${Math.round(value * 100)}%` : '';
