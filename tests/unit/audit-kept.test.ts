import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { audit } from '../../electron/core/audit/audit';
import { KeptVerdicts, readVerdictTable } from '../../electron/core/audit/verdict-table';
import { mulberry32 } from '../../electron/core/demo/scenes';
import type { ProjectStore } from '../../electron/core/store/project-store';
import type { AuditFilters, AuditReport } from '../../shared/audit';
import type { Verdict } from '../../shared/labels';
import { openTestProject, sqlite, tempDir } from '../helpers/project';

/** Pairs after the project's last, each with its prompt, two images and generators. */
function addPairs(store: ProjectStore, count: number): void {
  const db = sqlite(store);
  const first = store.pairs.lastPairId() + 1;
  db.transaction(() => {
    for (let id = first; id < first + count; id++) {
      db.prepare('INSERT INTO prompts (id, text) VALUES (?, ?)').run(id, `prompt ${id}`);
      db.prepare('INSERT INTO images (id, uid) VALUES (?, ?), (?, ?)').run(
        2 * id,
        `a${id}`,
        2 * id + 1,
        `b${id}`,
      );
      db.prepare(
        `INSERT INTO pairs (id, prompt_id, image_0_id, image_1_id, model_0, model_1, added_at)
         VALUES (?, ?, ?, ?, ?, ?, 0)`,
      ).run(id, id, 2 * id, 2 * id + 1, ['sdxl', 'dalle'][id % 2], ['sdxl', 'kand'][(id % 3) % 2]);
    }
  })();
}

const asValue = (report: AuditReport) => ({ ...report, seconds: 0 });

describe("the dashboard's kept verdicts", () => {
  it('keep each report equal to a fresh read through labels, undos, new pairs, annotators, scores and models', async () => {
    const { store, call, studio } = openTestProject(path.join(tempDir(), 'p.pickstudio'));
    addPairs(store, 30);
    const random = mulberry32(12);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    const models = ['one', 'two'].map((name) =>
      store.scores.register({ fingerprint: `fp-${name}`, name, manifest: '{}', folder: '/m' }),
    );
    store.scores.activate({ fingerprint: 'fp-one', name: 'one', manifest: '{}', folder: '/m' });
    const annotators = ['ana', 'ben'];
    const decisions: (Verdict | 'skip')[] = [0, 1, 'tie', 'skip'];
    const questions: AuditFilters[] = [{}, { generator: 'sdxl' }, { minConfidence: 0.2 }];
    const steps: string[] = [];
    for (let step = 0; step < 120; step++) {
      const roll = random();
      if (roll < 0.55) {
        const annotator = pick(annotators);
        await call('recordDecision', {
          annotator,
          pairId: 1 + Math.floor(random() * store.pairs.lastPairId()),
          decision: pick(decisions),
          leftImage: random() < 0.5 ? 0 : 1,
          suggestionVisible: false,
          // Now and then longer than the audit packs beside a decision (a long time).
          decisionMs: Math.floor(random() * (random() < 0.1 ? 86_400_000 : 5000)),
        });
        steps.push(`label ${annotator}`);
      } else if (roll < 0.75) {
        const annotator = pick(annotators);
        await call('undoLast', { annotator }).catch(() => {});
        steps.push(`undo ${annotator}`);
      } else if (roll < 0.8) {
        annotators.push(`new${annotators.length}`);
        steps.push('a new annotator');
      } else if (roll < 0.85) {
        addPairs(store, 1 + Math.floor(random() * 4));
        steps.push('new pairs');
      } else if (roll < 0.95) {
        const model = store.scores.activeModel()!.id;
        store.scores.writeScores(model, (put) => {
          for (let i = 0; i < 5; i++) {
            const p0 = random();
            put(1 + Math.floor(random() * store.pairs.lastPairId()), p0, 1 - p0, p0);
          }
        });
        steps.push('scores');
      } else {
        const next = store.scores.activeModel()!.id === models[0] ? 'two' : 'one';
        store.scores.activate({
          fingerprint: `fp-${next}`,
          name: next,
          manifest: '{}',
          folder: '/m',
        });
        steps.push('another model');
      }
      const filters = questions[step % questions.length]!;
      const kept = await call('getAudit', { filters, resamples: 0 });
      const fresh = audit(store, { filters, resamples: 0 });
      expect(asValue(kept), steps.join(', ')).toEqual(asValue(fresh));
    }
    expect(steps.filter((s) => s.startsWith('label')).length).toBeGreaterThan(40);
    studio.close();
  });

  it('reads only the pairs the log changed since, and nothing when it did not move', async () => {
    const { store, call, studio } = openTestProject(path.join(tempDir(), 'p.pickstudio'));
    addPairs(store, 400);
    const kept = new KeptVerdicts();
    for (let pairId = 1; pairId <= 400; pairId++) {
      await call('recordDecision', {
        annotator: pairId % 2 ? 'ana' : 'ben',
        pairId,
        decision: 0,
        leftImage: 0,
        suggestionVisible: false,
        decisionMs: 900,
      });
    }
    const reads = vi.spyOn(store.audit, 'packedVerdicts');
    const first = kept.read(store).table;
    expect(kept.read(store).table).toBe(first);
    expect(reads.mock.calls.map((call) => call[2])).toEqual([undefined]);
    await call('recordDecision', {
      annotator: 'cy',
      pairId: 7,
      decision: 'tie',
      leftImage: 1,
      suggestionVisible: false,
      decisionMs: 1200,
    });
    await call('undoLast', { annotator: 'ana' });
    addPairs(store, 1);
    await call('recordDecision', {
      annotator: 'ben',
      pairId: 401,
      decision: 1,
      leftImage: 0,
      suggestionVisible: false,
      decisionMs: 700,
    });
    const patched = kept.read(store).table;
    // Pair 7 (cy's tie), pair 399 (ana's last verdict, undone) and the new pair 401.
    expect(reads.mock.calls.map((call) => call[2])).toEqual([undefined, [7, 399, 401]]);
    expect(patched).not.toBe(first);
    expect(patched).toEqual(readVerdictTable(store, {}));
    expect(patched.pairId.length).toBe(401);
    studio.close();
  });
});
