/**
 * The desktop menu's team actions without a window: the package's annotator from its file name,
 * the sizes offered, the reports of a package and a merge, and the shortcut list in a package.
 * (The page's side, renderer/src/state/team.ts, is driven in tests/e2e/team-ui.spec.ts: the
 * renderer is outside tsconfig.node.json, which type-checks these tests.)
 */
import { describe, expect, it } from 'vitest';
import { GO_KEYS, LABELING_KEYS, shortcutLines, zoomRows } from '../../shared/keys';
import {
  annotatorOfFile,
  describeMerge,
  describePackage,
  packageDefaultPath,
  packageFile,
  pairChoices,
} from '../../electron/main/team-text';

describe("the desktop menu's team dialogs", () => {
  it("takes the annotator's name from the package's file name", () => {
    expect(annotatorOfFile('/leads/Ana Lima.pickstudio')).toBe('Ana Lima');
    expect(annotatorOfFile('/leads/ana.PICKSTUDIO')).toBe('ana');
    // Linux's save dialog adds no extension: the file gets it, the name stays.
    expect(packageFile('/leads/ana')).toBe('/leads/ana.pickstudio');
    expect(annotatorOfFile('/leads/ana')).toBe('ana');
    expect(annotatorOfFile('/leads/ana.v2.pickstudio')).toBe('ana.v2');
    expect(packageDefaultPath('/leads/lead.pickstudio')).toBe('/leads/Annotator name.pickstudio');
  });

  it('offers round sizes below the project size, then all that are left', () => {
    expect(pairChoices(240).map((c) => c.pairs)).toEqual([25, 50, 100, undefined]);
    expect(pairChoices(30).map((c) => c.pairs)).toEqual([25, undefined]);
    expect(pairChoices(10).map((c) => c.pairs)).toEqual([undefined]);
    expect(pairChoices(1_000_000).map((c) => c.label)).toEqual([
      '25,000 pairs',
      '50,000 pairs',
      '100,000 pairs',
      'All that are left',
    ]);
  });

  it("lists the labeling keys alone in a package, every key in a lead's project", () => {
    const text = shortcutLines(false, 'annotator').join('\n');
    expect(text).not.toMatch(/^g then/m);
    const zoom = zoomRows(false).length;
    expect(text.split('\n')).toHaveLength(LABELING_KEYS.length + zoom);
    const lead = shortcutLines(true, 'lead');
    expect(lead).toHaveLength(LABELING_KEYS.length + zoom + GO_KEYS.length);
    expect(lead.join('\n')).toMatch(/^g then m/m);
  });

  it('reports a package and a merge with their figures', () => {
    const made = describePackage({
      out: '/leads/ana.pickstudio',
      packageId: 'p',
      annotator: 'ana',
      pairs: 1200,
      goldPairs: 0,
      images: 2400,
      bytes: 3 * 1024 * 1024,
      seconds: 1,
    });
    expect(made.message).toBe('Made a package of 1,200 pairs for ana');
    expect(made.detail).toContain('/leads/ana.pickstudio');
    expect(made.detail).toContain('2,400 images inside, 3.0 MiB.');

    const merged = describeMerge({
      seconds: 1,
      files: [
        {
          file: '/r/ana.pickstudio',
          kind: 'package',
          annotators: ['ana'],
          annotationsAdded: 7,
          annotationsPresent: 2,
          annotationsOnUnknownPairs: 0,
          imagesFilled: 0,
          adjudicationsLeftOut: 0,
          renamed: [],
          flagsMerged: 0,
        },
        {
          file: '/r/ben.pickstudio',
          kind: 'package',
          annotators: ['ben (1a2b)'],
          annotationsAdded: 5,
          annotationsPresent: 0,
          annotationsOnUnknownPairs: 3,
          imagesFilled: 0,
          adjudicationsLeftOut: 4,
          renamed: [{ from: 'ben', to: 'ben (1a2b)' }],
          flagsMerged: 0,
        },
      ],
    });
    expect(merged.message).toBe('Merged 2 files: 12 new annotations');
    expect(merged.detail).toContain(
      'ana.pickstudio (package of ana): 7 new annotations, 2 already here',
    );
    expect(merged.detail).toContain('3 on pairs this project does not have: left out');
    expect(merged.detail).toContain('4 adjudications: left out');
    expect(merged.detail).toContain('"ben" is someone else here: kept apart as "ben (1a2b)"');
  });
});
