import { randomInt } from 'node:crypto';
import fs from 'node:fs';
import {
  projectSettingsSchema,
  type LabelPair,
  type LabelProgress,
  type MethodResult,
  type ParsedArgs,
  type ProjectSettings,
  type Provider,
  type ProviderFailure,
  type StudioMethod,
  type TaskProgress,
} from '../../shared/api';
import { StudioError } from '../../shared/errors';
import { audit, listDisagreements } from './audit/audit';
import { readImage, type ImageBytes } from './io/images';
import { exportParquet } from './io/export-parquet';
import { importSources } from './io/import-sources';
import {
  verdictFromDb,
  type DbVerdict,
  type PairForLabeling,
  type ProjectStore,
} from './store/project-store';
import type { WorkerEntry } from './scoring/worker-client';
import { loadModelFolder } from './scoring/model-folder';
import { loadModel, scoreProject } from './scoring/score-project';
import { ScoreStore } from './store/scores';
import { TaskRunner } from './tasks';

const SETTINGS_KEY = 'settings';
export const BACKGROUND_SCORING = 'background-scoring';
/** How long a pair handed out under an overlap stays reserved for its annotator. */
const LEASE_MS = 15 * 60 * 1000;
const DEFAULT_SETTINGS: ProjectSettings = {
  suggestionMode: 'after',
  tieThreshold: 0,
  overlap: null,
  queueOrder: 'project',
};

export type StudioHandlers = {
  [M in StudioMethod]: (args: ParsedArgs<M>) => Promise<MethodResult<M>>;
};

export interface ServiceEvents {
  progress(progress: TaskProgress): void;
}

export interface ServiceOptions {
  /** The scoring worker, for a door that ships it bundled (the app). */
  scoringWorker?: WorkerEntry;
}

/** The StudioApi over one open project. Doors reach it only through the dispatcher. */
export class StudioService implements StudioHandlers {
  private readonly tasks: TaskRunner;
  private readonly scores: ScoreStore;
  /** The latest scoring run in this process: its provider, and whether it is still going. */
  private scoring: { provider: Provider; failures: ProviderFailure[] } | null = null;
  private scoringRuns = 0;

  constructor(
    readonly store: ProjectStore,
    events: ServiceEvents,
    private readonly options: ServiceOptions = {},
  ) {
    this.tasks = new TaskRunner(events.progress);
    this.scores = new ScoreStore(store.db);
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
           (SELECT t.verdicts FROM pair_tallies t WHERE t.pair_id = p.id) AS annotations,
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

  async getQueue(args: ParsedArgs<'getQueue'>): Promise<MethodResult<'getQueue'>> {
    const settings = await this.getSettings();
    const assigning = settings.overlap !== null || settings.queueOrder !== 'project';
    // Assignment needs to know who holds what, so the annotator is registered on first ask.
    const annotatorId = assigning
      ? this.store.annotatorId(args.annotator, 'human')
      : (this.store.findAnnotator(args.annotator)?.id ?? null);
    const now = Date.now();
    const rows = assigning
      ? this.store.assignPairs(annotatorId!, args.excludePairIds, args.count, {
          overlap: settings.overlap,
          order: settings.queueOrder,
          modelId: this.scores.activeModel()?.id ?? null,
          now,
          leaseUntil: now + LEASE_MS,
        })
      : this.store.undecidedPairs(annotatorId, args.excludePairIds, args.count);
    return {
      pairs: rows.map((row) => this.labelPair(row, null)),
      progress: this.progress(args.annotator, annotatorId),
    };
  }

  async getPair(args: ParsedArgs<'getPair'>): Promise<MethodResult<'getPair'>> {
    const row = this.store.pairForLabeling(args.pairId);
    if (!row) throw new StudioError('not_found', `no pair ${args.pairId} in ${this.store.file}`);
    const annotatorId = this.store.findAnnotator(args.annotator)?.id;
    return this.labelPair(
      row,
      annotatorId === undefined ? null : this.store.currentDecision(row.pairId, annotatorId),
    );
  }

  async recordDecision(
    args: ParsedArgs<'recordDecision'>,
  ): Promise<MethodResult<'recordDecision'>> {
    if (!this.store.pairForLabeling(args.pairId)) {
      throw new StudioError('not_found', `no pair ${args.pairId} in ${this.store.file}`);
    }
    const annotatorId = this.store.annotatorId(args.annotator, 'human');
    const annotationId = this.store.insertAnnotation({
      pairId: args.pairId,
      annotatorId,
      action: args.verdict === null ? 'skip' : 'verdict',
      verdict: args.verdict,
      leftImage: args.leftImage,
      suggestionVisible: args.suggestionVisible,
      decisionMs: args.decisionMs,
      createdAt: Date.now(),
    });
    return { annotationId, progress: this.progress(args.annotator, annotatorId) };
  }

  async undoLast(args: ParsedArgs<'undoLast'>): Promise<MethodResult<'undoLast'>> {
    const annotator = this.store.findAnnotator(args.annotator);
    const latest = annotator && this.store.latestStandingDecision(annotator.id);
    if (!annotator || !latest) {
      return { undone: null, progress: this.progress(args.annotator, annotator?.id ?? null) };
    }
    this.store.insertAnnotation({
      pairId: latest.pairId,
      annotatorId: annotator.id,
      action: 'undo',
      undoesId: latest.id,
      createdAt: Date.now(),
    });
    return {
      undone: { annotationId: latest.id, pairId: latest.pairId },
      progress: this.progress(args.annotator, annotator.id),
    };
  }

  async scorePairs(args: ParsedArgs<'scorePairs'>): Promise<MethodResult<'scorePairs'>> {
    const folder = args.model ?? this.scores.activeModel()?.folder;
    if (!folder) {
      throw new StudioError(
        'invalid_argument',
        `${this.store.file} has no model yet: name a model folder`,
      );
    }
    this.scoringRuns++;
    try {
      return await this.tasks.run('score', 'items', args.taskId, async (context) => {
        const model = await loadModel(folder, args.provider, this.options.scoringWorker);
        this.scoring = { provider: model.encoders.provider, failures: model.encoders.failures };
        return scoreProject(
          this.store,
          model,
          { batch: args.batch, worker: this.options.scoringWorker },
          context,
        );
      });
    } finally {
      this.scoringRuns--;
    }
  }

  /**
   * Scores, in the background, the pairs the project's active model has not scored yet (pairs
   * imported since, or a run cut short by a restart). Doors call it when they open a project;
   * it never throws, and resolves when done or cancelled (task id `background-scoring`).
   */
  async scoreInBackground(log: (message: string) => void = console.error): Promise<void> {
    const model = this.scores.activeModel();
    if (!model || this.scores.scoredCount(model.id) >= this.store.labelProgress(null).total) return;
    try {
      await this.scorePairs({ taskId: BACKGROUND_SCORING });
    } catch (error) {
      log(`background scoring with ${model.name} stopped: ${(error as Error).message}`);
    }
  }

  async addModel(args: ParsedArgs<'addModel'>): Promise<MethodResult<'addModel'>> {
    const folder = await loadModelFolder(args.folder);
    this.scores.activate({
      fingerprint: folder.fingerprint,
      name: folder.manifest.name,
      manifest: JSON.stringify(folder.manifest),
      folder: folder.dir,
    });
    return (await this.listModels()).find((m) => m.fingerprint === folder.fingerprint)!;
  }

  async listModels(): Promise<MethodResult<'listModels'>> {
    const totalPairs = this.store.labelProgress(null).total;
    return this.scores.models().map((m) => ({
      name: m.name,
      fingerprint: m.fingerprint,
      folder: m.folder,
      active: m.active,
      scoredPairs: m.scored,
      totalPairs,
    }));
  }

  async getAudit(args: ParsedArgs<'getAudit'>): Promise<MethodResult<'getAudit'>> {
    return audit(this.store, args);
  }

  async listDisagreements(
    args: ParsedArgs<'listDisagreements'>,
  ): Promise<MethodResult<'listDisagreements'>> {
    return listDisagreements(this.store, (await this.getSettings()).tieThreshold, args);
  }

  async adjudicate(args: ParsedArgs<'adjudicate'>): Promise<MethodResult<'adjudicate'>> {
    if (!this.store.pairForLabeling(args.pairId)) {
      throw new StudioError('not_found', `no pair ${args.pairId} in ${this.store.file}`);
    }
    return { adjudicationId: this.store.insertAdjudication(args) };
  }

  async getScoringStatus(): Promise<MethodResult<'getScoringStatus'>> {
    const model = this.scores.activeModel();
    return {
      model: model?.name ?? null,
      provider: this.scoring?.provider ?? null,
      providerFailures: this.scoring?.failures ?? [],
      scoredPairs: model ? this.scores.scoredCount(model.id) : 0,
      totalPairs: this.store.labelProgress(null).total,
      running: this.scoringRuns > 0,
    };
  }

  async getSettings(): Promise<MethodResult<'getSettings'>> {
    const stored = this.store.meta(SETTINGS_KEY);
    return stored === undefined
      ? DEFAULT_SETTINGS
      : projectSettingsSchema.parse({ ...DEFAULT_SETTINGS, ...JSON.parse(stored) });
  }

  async setSettings(args: ParsedArgs<'setSettings'>): Promise<MethodResult<'setSettings'>> {
    const settings = { ...(await this.getSettings()), ...args };
    this.store.setMeta(SETTINGS_KEY, JSON.stringify(settings));
    return settings;
  }

  async getHistory(args: ParsedArgs<'getHistory'>): Promise<MethodResult<'getHistory'>> {
    const annotator = this.store.findAnnotator(args.annotator);
    if (!annotator) return [];
    const model = this.scores.activeModel();
    return this.store.history(annotator.id, args.limit).map((row) => ({
      annotationId: row.id,
      pairId: row.pairId,
      prompt: row.prompt,
      decision: row.action === 'skip' ? 'skip' : verdictFromDb(row.verdict!),
      createdAt: row.createdAt,
      ...this.historySuggestion(model, row.pairId),
    }));
  }

  /** An image's bytes for the doors' image routes; not part of the contract's RPC methods. */
  readImage(uid: string): Promise<ImageBytes> {
    return readImage(this.store, uid);
  }

  private labelPair(row: PairForLabeling, decision: LabelPair['decision']): LabelPair {
    const model = this.scores.activeModel();
    const score = model && this.scores.scoreOf(model.id, row.pairId);
    const available = (stored: number, path: string | null): boolean =>
      stored === 1 || (path !== null && fs.existsSync(path));
    return {
      pairId: row.pairId,
      prompt: row.prompt,
      image0: { uid: row.uid0, available: available(row.stored0, row.path0) },
      image1: { uid: row.uid1, available: available(row.stored1, row.path1) },
      // Random per showing, and recorded with the decision, so position bias can be measured.
      leftImage: randomInt(2) as 0 | 1,
      decision,
      suggestion: score
        ? { model: model.name, score0: score.score_0, score1: score.score_1, p0: score.p_0 }
        : null,
    };
  }

  private historySuggestion(
    model: { id: number; name: string } | undefined,
    pairId: number,
  ): { model: string | null; p0: number | null } {
    const score = model && this.scores.scoreOf(model.id, pairId);
    return score ? { model: model.name, p0: score.p_0 } : { model: null, p0: null };
  }

  private progress(annotator: string, annotatorId: number | null): LabelProgress {
    return { annotator, ...this.store.labelProgress(annotatorId) };
  }
}
