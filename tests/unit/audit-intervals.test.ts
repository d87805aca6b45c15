import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { audit } from '../../electron/core/audit/audit';
import { openStudio } from '../../electron/core/studio';
import type { ProjectStore } from '../../electron/core/store/project-store';
import type { TaskProgress } from '../../shared/api';
import { cohenRow, type AuditReport } from '../../shared/audit';
import type { Verdict } from '../../shared/labels';
import { insertPairs, openTestProject, sqlite, tempDir } from '../helpers/project';

/** Each of `annotators` judges every pair, agreeing often but not always. */
function label(store: ProjectStore, pairs: number, annotators: number): void {
  const records = [];
  for (let a = 0; a < annotators; a++) {
    const annotatorId = store.decisions.annotatorId(`ann${a}`, 'human');
    for (let pairId = 1; pairId <= pairs; pairId++) {
      const spin = (pairId * 7 + a * 3) % 10;
      const decision: Verdict = spin < 6 ? 0 : spin < 8 ? 1 : 'tie';
      records.push({
        pairId,
        annotatorId,
        decision,
        leftImage: (pairId + a) % 2 === 0 ? (0 as const) : (1 as const),
        decisionMs: 500 + spin * 100,
        createdAt: 1_700_000_000_000 + pairId,
      });
    }
  }
  store.decisions.record(records);
}

const ofTask = (events: TaskProgress[], taskId: string) =>
  events.filter((e) => e.taskId === taskId);

/** The report as a value: when it was computed and how long it took aside. */
const asValue = (report: AuditReport) => ({ ...report, seconds: 0 });

describe('the dashboard: figures first, intervals after', () => {
  it('gives the figures without intervals at once, then the intervals from a worker, with progress, equal to computing them here', async () => {
    const { store, call, events, studio } = openTestProject(path.join(tempDir(), 'p.pickstudio'));
    insertPairs(sqlite(store), 40);
    label(store, 40, 3);

    const figures = await call('getAudit', { resamples: 0 });
    expect(figures.dashboard.bootstrap.resamples).toBe(0);
    expect(figures.dashboard.agreement.percent.interval).toBeNull();
    expect(events).toEqual([]);

    const full = await call('getAudit', { taskId: 'intervals-1' });
    expect(full.dashboard.bootstrap.resamples).toBe(200);
    expect(full.dashboard.agreement.percent.interval).not.toBeNull();
    expect(cohenRow(full.dashboard.agreement.cohen, 0).unweighted.interval).not.toBeNull();
    // The same seed and the same verdicts: the worker's resamples are this thread's.
    expect(asValue(full)).toEqual(asValue(audit(store, { filters: {}, resamples: 200 })));
    // And the figures are the same numbers, with their intervals left out.
    expect(full.dashboard.agreement.percent.value).toBe(figures.dashboard.agreement.percent.value);
    expect(full.dashboard.pickscore).toEqual(figures.dashboard.pickscore);

    const progress = ofTask(events, 'intervals-1');
    expect(progress.map((e) => [e.kind, e.unit])).toContainEqual(['intervals', 'resamples']);
    expect(progress.at(-1)).toMatchObject({ state: 'done', done: 200, total: 200 });
    studio.close();
  });

  it('gives the same reports without a worker, on the calling thread (a bundle that ships none)', async () => {
    const file = path.join(tempDir(), 'p.pickstudio');
    const { store, call, studio } = openTestProject(file);
    insertPairs(sqlite(store), 30);
    label(store, 30, 4);
    const here = openStudio(file, { dashboardWorker: null });
    for (const resamples of [0, 100]) {
      const args = { filters: { annotators: ['ann0', 'ann1', 'ann3'] }, resamples };
      expect(asValue(await here.call('getAudit', args))).toEqual(
        asValue(await call('getAudit', args)),
      );
    }
    here.close();
    studio.close();
  });

  it('keeps the intervals until the project changes: a label here, or one written by another process', async () => {
    const file = path.join(tempDir(), 'p.pickstudio');
    const { store, call, events, studio } = openTestProject(file);
    insertPairs(sqlite(store), 30);
    label(store, 20, 3);

    const first = await call('getAudit', { taskId: 'a', resamples: 50 });
    const again = await call('getAudit', { taskId: 'b', resamples: 50 });
    expect(again).toEqual(first);
    expect(ofTask(events, 'b')).toEqual([]);
    // Another number of resamples is another question.
    const more = await call('getAudit', { taskId: 'c', resamples: 60 });
    expect(more.dashboard.bootstrap.resamples).toBe(60);
    expect(ofTask(events, 'c').at(-1)).toMatchObject({ state: 'done' });
    expect(await call('getAudit', { taskId: 'c2', resamples: 60 })).toEqual(more);
    expect(ofTask(events, 'c2')).toEqual([]);

    await call('recordDecision', {
      annotator: 'ann0',
      pairId: 25,
      decision: 1,
      leftImage: 0,
      suggestionVisible: false,
      decisionMs: 800,
    });
    const afterLabel = await call('getAudit', { taskId: 'd', resamples: 60 });
    expect(ofTask(events, 'd').at(-1)).toMatchObject({ state: 'done', done: 60 });
    expect(afterLabel.dashboard.counts.verdicts).toBe(first.dashboard.counts.verdicts + 1);

    const other = openStudio(file);
    await other.call('recordDecision', {
      annotator: 'ann1',
      pairId: 25,
      decision: 1,
      leftImage: 1,
      suggestionVisible: false,
      decisionMs: 900,
    });
    other.close();
    const afterOther = await call('getAudit', { taskId: 'e', resamples: 60 });
    expect(ofTask(events, 'e').at(-1)).toMatchObject({ state: 'done', done: 60 });
    expect(afterOther.dashboard.counts.verdicts).toBe(first.dashboard.counts.verdicts + 2);
    expect(afterOther.dashboard.counts.judgedPairs).toBe(first.dashboard.counts.judgedPairs + 1);
    studio.close();
  });

  it('cancelling stops the resampling mid-way: the call answers with the figures alone, and the next one computes afresh', async () => {
    const { store, call, events, studio } = openTestProject(path.join(tempDir(), 'p.pickstudio'));
    insertPairs(sqlite(store), 30);
    // 1,770 annotator pairs, each with its own resamples: seconds of work for 2,000 resamples.
    label(store, 30, 60);

    /** Cancels the task once it has resampled; resolves with the progress it had then. */
    const cancelWhenRunning = (taskId: string) =>
      new Promise<TaskProgress>((resolve) => {
        const watch = setInterval(() => {
          const running = ofTask(events, taskId).find((e) => e.state === 'running' && e.done > 0);
          if (!running) return;
          clearInterval(watch);
          void call('cancelTask', { taskId }).then(() => resolve(running));
        }, 5);
      });
    const cancelling = cancelWhenRunning('slow');
    const slow = await call('getAudit', { taskId: 'slow', resamples: 2000 });
    const cancelledAt = await cancelling;
    // What it had: the figures, without intervals.
    expect(slow.dashboard.bootstrap.resamples).toBe(0);
    expect(cohenRow(slow.dashboard.agreement.cohen, 0).unweighted.interval).toBeNull();
    expect(asValue(slow)).toEqual(asValue(await call('getAudit', { resamples: 0 })));
    expect(cancelledAt.done).toBeLessThan(2000);
    expect(ofTask(events, 'slow').at(-1)).toMatchObject({ state: 'cancelled' });
    // What a cancelled run answered is not kept: the same question resamples again.
    const cancellingAgain = cancelWhenRunning('slow-again');
    await call('getAudit', { taskId: 'slow-again', resamples: 2000 });
    await cancellingAgain;
    expect(ofTask(events, 'slow-again').at(-1)).toMatchObject({ state: 'cancelled' });

    const quick = await call('getAudit', { taskId: 'quick', resamples: 5 });
    expect(quick.dashboard.agreement.cohen.a).toHaveLength((60 * 59) / 2);
    expect(cohenRow(quick.dashboard.agreement.cohen, 0).unweighted.interval).not.toBeNull();
    studio.close();
  });
});
