import type { MethodResult, ParsedArgs, StudioMethod, TaskProgress } from '../../shared/api';
import { exportParquet } from './io/export-parquet';
import { importSources } from './io/import-sources';
import { verdictFromDb, type DbVerdict, type ProjectStore } from './store/project-store';
import { TaskRunner } from './tasks';

export type StudioHandlers = {
  [M in StudioMethod]: (args: ParsedArgs<M>) => Promise<MethodResult<M>>;
};

export interface ServiceEvents {
  progress(progress: TaskProgress): void;
}

/** The StudioApi over one open project. Doors reach it only through the dispatcher. */
export class StudioService implements StudioHandlers {
  private readonly tasks: TaskRunner;

  constructor(
    readonly store: ProjectStore,
    events: ServiceEvents,
  ) {
    this.tasks = new TaskRunner(events.progress);
  }

  async getStats(args: ParsedArgs<'getStats'>): Promise<MethodResult<'getStats'>> {
    return {
      project: this.store.file,
      schemaVersion: this.store.schemaVersion,
      counts: this.store.counts(),
      annotators: this.store.annotatorStats(args.annotator),
    };
  }

  async listPairs(args: ParsedArgs<'listPairs'>): Promise<MethodResult<'listPairs'>> {
    const rows = this.store.db
      .prepare(
        `SELECT p.id AS pairId, pr.text AS prompt, i0.uid AS image0Uid, i1.uid AS image1Uid,
           p.model_0 AS model0, p.model_1 AS model1,
           (SELECT count(*) FROM current_annotations c WHERE c.pair_id = p.id AND c.action = 'verdict') AS annotations,
           (SELECT j.verdict FROM adjudications j WHERE j.pair_id = p.id ORDER BY j.id DESC LIMIT 1) AS adjudicated
         FROM pairs p JOIN prompts pr ON pr.id = p.prompt_id
         JOIN images i0 ON i0.id = p.image_0_id JOIN images i1 ON i1.id = p.image_1_id
         ORDER BY p.id LIMIT ? OFFSET ?`,
      )
      .all(args.limit, args.offset) as (Omit<MethodResult<'listPairs'>[number], 'verdict'> & {
      adjudicated: DbVerdict | null;
    })[];
    return rows.map(({ adjudicated, ...row }) => ({
      ...row,
      verdict: adjudicated === null ? null : verdictFromDb(adjudicated),
    }));
  }

  importSources(args: ParsedArgs<'importSources'>): Promise<MethodResult<'importSources'>> {
    return this.tasks.run('import', 'rows', args.taskId, (context) =>
      importSources(this.store, args.sources, context),
    );
  }

  exportParquet(args: ParsedArgs<'exportParquet'>): Promise<MethodResult<'exportParquet'>> {
    return this.tasks.run('export', 'pairs', args.taskId, (context) =>
      exportParquet(this.store, args, context),
    );
  }

  async cancelTask(args: ParsedArgs<'cancelTask'>): Promise<MethodResult<'cancelTask'>> {
    return { cancelled: this.tasks.cancel(args.taskId) };
  }
}
