/**
 * axe-core on a page, for any spec: `expectNoSeriousViolations(page, 'the review list')` fails
 * with every serious or critical violation listed (rule, impact, the elements' selectors, and
 * where to read about the rule), so a failure says what to fix without a rerun.
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, type Page } from '@playwright/test';

type AxeResults = Awaited<ReturnType<AxeBuilder['analyze']>>;
type Violation = AxeResults['violations'][number];

const BLOCKING = new Set(['serious', 'critical']);

export interface AxeOptions {
  /** Only this part of the page (a CSS selector), e.g. an open dialog. */
  include?: string;
  /** Parts to leave out (CSS selectors), each with a reason at the call site. */
  exclude?: string[];
  /** Report without stopping the test, so one run lists every screen's violations. */
  soft?: boolean;
}

/** One violation as lines: rule, impact, help and its URL, then each element with its summary. */
export function describeViolation(violation: Violation): string {
  const nodes = violation.nodes.map((node) => {
    const target = node.target.map((part) => JSON.stringify(part)).join(' > ');
    const why = (node.failureSummary ?? '').replace(/\s*\n\s*/g, ' ').trim();
    return `    - ${target}${why ? `: ${why}` : ''}`;
  });
  return [
    `  [${violation.impact ?? 'unknown'}] ${violation.id}: ${violation.help} (${violation.helpUrl})`,
    ...nodes,
  ].join('\n');
}

/** The serious and critical violations axe finds on the page as it is now. */
export async function seriousViolations(
  page: Page,
  options: AxeOptions = {},
): Promise<Violation[]> {
  let builder = new AxeBuilder({ page });
  if (options.include) builder = builder.include(options.include);
  for (const selector of options.exclude ?? []) builder = builder.exclude(selector);
  const results = await builder.analyze();
  return results.violations.filter((v) => v.impact != null && BLOCKING.has(v.impact));
}

export async function expectNoSeriousViolations(
  page: Page,
  screenName: string,
  options: AxeOptions = {},
): Promise<void> {
  const violations = await seriousViolations(page, options);
  // A string: the tests compile without DOM types.
  const light = await page.evaluate<boolean>("matchMedia('(prefers-color-scheme: light)').matches");
  const scheme = light ? 'light' : 'dark';
  const message =
    violations.length === 0
      ? ''
      : `axe: ${violations.length} serious or critical violation(s) on ${screenName} (${scheme}):\n` +
        violations.map(describeViolation).join('\n');
  const check = options.soft ? expect.soft : expect;
  check(violations.length, message).toBe(0);
}
