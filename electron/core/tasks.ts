import { randomUUID } from 'node:crypto';
import type { TaskProgress } from '../../shared/api';
import { StudioError } from '../../shared/errors';

export interface TaskContext {
  readonly signal: AbortSignal;
  /** Reports progress; cheap to call per row, events are throttled. */
  progress(done: number, total: number | null, detail?: string): void;
  /** Throws a `cancelled` error once the task has been cancelled. */
  throwIfCancelled(): void;
}

const EMIT_INTERVAL_MS = 100;

/**
 * Long work (imports, exports, demo generation) runs as a task: it reports counts, a rate and an
 * estimate through `emit`, and stops at its next check once cancelled.
 */
export class TaskRunner {
  private readonly running = new Map<string, AbortController>();

  constructor(private readonly emit: (progress: TaskProgress) => void) {}

  async run<T>(
    kind: TaskProgress['kind'],
    unit: string,
    requestedId: string | undefined,
    work: (context: TaskContext) => Promise<T>,
  ): Promise<T> {
    const taskId = requestedId ?? randomUUID();
    if (this.running.has(taskId)) {
      throw new StudioError('busy', `task ${taskId} is already running`);
    }
    const controller = new AbortController();
    this.running.set(taskId, controller);
    const started = performance.now();
    let lastEmit = 0;
    let last = { done: 0, total: null as number | null, detail: '' };

    const report = (state: TaskProgress['state']): void => {
      const seconds = (performance.now() - started) / 1000;
      const rate = seconds > 0 ? last.done / seconds : 0;
      const remaining = last.total === null ? null : Math.max(0, last.total - last.done);
      this.emit({
        taskId,
        kind,
        state,
        unit,
        done: last.done,
        total: last.total,
        ratePerSecond: rate,
        etaSeconds: remaining === null || rate === 0 ? null : remaining / rate,
        detail: last.detail,
      });
    };

    const context: TaskContext = {
      signal: controller.signal,
      progress(done, total, detail) {
        last = { done, total, detail: detail ?? last.detail };
        const now = performance.now();
        if (now - lastEmit >= EMIT_INTERVAL_MS) {
          lastEmit = now;
          report('running');
        }
      },
      throwIfCancelled() {
        if (controller.signal.aborted) {
          throw new StudioError('cancelled', `${kind} cancelled`);
        }
      },
    };

    try {
      report('running');
      const result = await work(context);
      // A task may answer a cancel with what it had (the dashboard: its figures without intervals).
      report(controller.signal.aborted ? 'cancelled' : 'done');
      return result;
    } catch (error) {
      report(error instanceof StudioError && error.code === 'cancelled' ? 'cancelled' : 'failed');
      throw error;
    } finally {
      this.running.delete(taskId);
    }
  }

  cancel(taskId: string): boolean {
    const controller = this.running.get(taskId);
    if (!controller) return false;
    controller.abort();
    return true;
  }

  /** Cancels every task under way: each stops at its next check and answers its cancel. */
  cancelAll(): void {
    for (const controller of this.running.values()) controller.abort();
  }
}
