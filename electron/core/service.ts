import { randomInt } from 'node:crypto';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  guidelinesSchema,
  MAX_GUIDELINES_BYTES,
  projectSettingsSchema,
  type Guidelines,
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
import { didYouMean } from '../../shared/words';
import { listDisagreements } from './audit/audit';
import { AuditReports, sourceDashboardWorker } from './audit/reports';
import { createDemoProject } from './demo/create-demo';
import { readImage, type ImageBytes } from './io/images';
import { exportParquet } from './io/export/export';
import { sourceParquetWorker } from './io/export/parquet-stream';
import { exportEmbeddings, importEmbeddings } from './io/embeddings';
import { importSources } from './io/import-sources';
import { sourceImportWorker, Stager } from './io/import-stage';
import { nameTaken, type CurrentDecision } from './store/decisions';
import type { PairForLabeling } from './store/pairs';
import type { ProjectStore } from './store/project-store';
import { namedOrSource, type WorkerEntry } from './worker-client';
import { loadModelFolder } from './scoring/model-folder';
import { loadModel, scoreFromCache, scoreProject } from './scoring/score-project';
import { mergeSources } from './team/merge';
import { makePackage } from './team/package';
import { TaskRunner } from './tasks';

/** The demo model (not PickScore), committed in the repo, made by scripts/make-demo-model.ts. */
const DEMO_MODEL_DIR = fileURLToPath(new URL('../../resources/demo-model', import.meta.url));

const SETTINGS_KEY = 'settings';
/** The lead's guidelines in project_meta, as JSON `{ text, updatedAt }`; packages carry them. */
const GUIDELINES_KEY = 'guidelines';
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
  /** The project's settings after a change, for every open view. */
  settings(settings: ProjectSettings): void;
  /** The guidelines after the lead set or removed them. */
  guidelines?(guidelines: Guidelines | null): void;
}

export interface ServiceOptions {
  /** The scoring worker, for a door that ships it bundled (the app). */
  scoringWorker?: WorkerEntry;
  /** The dashboard's worker, likewise; null computes the dashboard on this thread. */
  dashboardWorker?: WorkerEntry | null;
  /** The import's worker, likewise; null reads and checks imported files on this thread. */
  importWorker?: WorkerEntry | null;
  /** The export's Parquet worker, likewise; null writes large exports in parts on this thread. */
  parquetWorker?: WorkerEntry | null;
  /** The demo model's folder; by default resources/demo-model beside the sources. */
  demoModel?: string;
}

/**
 * One handler per StudioApi method, over one open project. Doors never hold it: openStudio
 * (studio.ts) puts it behind the dispatcher, which checks every call against the contract first.
 */
export class StudioService implements StudioHandlers {
  private readonly tasks: TaskRunner;
  private readonly reports: AuditReports;
  private readonly stager: Stager;
  private readonly parquetWorker: WorkerEntry | null;
  /** The latest scoring run in this process: its provider, and whether it is still going. */
  private scoring: { provider: Provider; failures: ProviderFailure[] } | null = null;
  private scoringRuns = 0;

  constructor(
    private readonly store: ProjectStore,
    private readonly events: ServiceEvents,
    private readonly options: ServiceOptions = {},
  ) {
    this.tasks = new TaskRunner(events.progress);
    this.reports = new AuditReports(
      store,
      namedOrSource(options.dashboardWorker, sourceDashboardWorker),
    );
    this.stager = new Stager(namedOrSource(options.importWorker, sourceImportWorker));
    this.parquetWorker = namedOrSource(options.parquetWorker, sourceParquetWorker);
  }

  /**
   * Cancels the tasks under way, so that each answers its cancel rather than a failure on the
   * closed project, and ends the work this service started in threads of its own.
   */
  close(): void {
    this.tasks.cancelAll();
    this.reports.close();
    this.stager.close();
  }

  async getStats(args: ParsedArgs<'getStats'>): Promise<MethodResult<'getStats'>> {
    const annotators = this.store.decisions.stats(args.annotator);
    if (args.annotator !== undefined && annotators.length === 0) {
      throw new StudioError(
        'not_found',
        `${this.store.file}: no annotator named ${JSON.stringify(args.annotator)}` +
          didYouMean(args.annotator, this.store.audit.annotatorNamesInOrder()),
      );
    }
    return {
      project: this.store.file,
      schemaVersion: this.store.schemaVersion,
      counts: this.store.counts(),
      annotators,
    };
  }

  async listPairs(args: ParsedArgs<'listPairs'>): Promise<MethodResult<'listPairs'>> {
    return this.store.pairs.summaries(args.offset, args.limit);
  }

  importSources(args: ParsedArgs<'importSources'>): Promise<MethodResult<'importSources'>> {
    return this.tasks.run('import', 'rows', args.taskId, (context) =>
      importSources(this.store, args.sources, context, this.stager),
    );
  }

  createDemo(args: ParsedArgs<'createDemo'>): Promise<MethodResult<'createDemo'>> {
    if (this.store.pairs.count() > 0) {
      throw new StudioError(
        'invalid_argument',
        `${this.store.file} already has pairs; the demo fills a new project`,
      );
    }
    return this.tasks.run('demo', 'items', args.taskId, (context) =>
      createDemoProject(
        this.store,
        {
          pairs: args.pairs,
          annotators: args.annotators,
          ...(args.score ? { scoreWith: this.options.demoModel ?? DEMO_MODEL_DIR } : {}),
          worker: this.options.scoringWorker,
        },
        context,
      ),
    );
  }

  exportParquet(args: ParsedArgs<'exportParquet'>): Promise<MethodResult<'exportParquet'>> {
    return this.tasks.run('export', 'pairs', args.taskId, (context) =>
      exportParquet(this.store, args, context, this.parquetWorker),
    );
  }

  async makePackage(args: ParsedArgs<'makePackage'>): Promise<MethodResult<'makePackage'>> {
    const settings = await this.getSettings();
    const started = performance.now();
    const made = await this.tasks.run('package', 'images', args.taskId, (context) =>
      makePackage(
        this.store,
        { ...args, settings, settingsKey: SETTINGS_KEY, guidelinesKey: GUIDELINES_KEY },
        context,
      ),
    );
    return { ...made, seconds: (performance.now() - started) / 1000 };
  }

  async merge(args: ParsedArgs<'merge'>): Promise<MethodResult<'merge'>> {
    const started = performance.now();
    const files = await this.tasks.run('merge', 'files', args.taskId, (context) =>
      mergeSources(this.store, args.sources, context),
    );
    return { files, seconds: (performance.now() - started) / 1000 };
  }

  async listMerges(): Promise<MethodResult<'listMerges'>> {
    return this.store.merges.list();
  }

  async getProject(): Promise<MethodResult<'getProject'>> {
    return {
      role: this.store.role,
      projectId: this.store.projectId,
      annotator: this.store.packageAnnotator,
    };
  }

  async cancelTask(args: ParsedArgs<'cancelTask'>): Promise<MethodResult<'cancelTask'>> {
    return { cancelled: this.tasks.cancel(args.taskId) };
  }

  async getQueue(args: ParsedArgs<'getQueue'>): Promise<MethodResult<'getQueue'>> {
    const settings = await this.getSettings();
    const assigning = settings.overlap !== null || settings.queueOrder !== 'project';
    // Assignment needs to know who holds what, so the annotator is registered on first ask.
    const annotatorId = assigning
      ? this.store.decisions.annotatorId(args.annotator, 'human')
      : (this.store.decisions.findAnnotator(args.annotator)?.id ?? null);
    const now = Date.now();
    const lease = { overlap: settings.overlap, now, leaseUntil: now + LEASE_MS };
    const rows = assigning
      ? this.store.pairs.assign(annotatorId!, args.excludePairIds, args.count, {
          ...lease,
          order: settings.queueOrder,
          modelId: this.store.scores.activeModel()?.id ?? null,
        })
      : this.store.pairs.undecided(annotatorId, args.excludePairIds, args.count);
    // Once no undecided pair is left, the pairs skipped once come back, each as it was shown.
    const skipped =
      annotatorId === null
        ? []
        : this.store.pairs.returningSkips(
            annotatorId,
            [...args.excludePairIds, ...rows.map((row) => row.pairId)],
            args.count - rows.length,
            assigning ? lease : null,
          );
    return {
      pairs: [
        ...rows.map((row) => this.labelPair(row, null, annotatorId)),
        ...skipped.map((row) =>
          this.labelPair(row, { decision: 'skip', leftImage: row.skippedLeft }, annotatorId),
        ),
      ],
      progress: this.progress(args.annotator, annotatorId),
    };
  }

  async getPair(args: ParsedArgs<'getPair'>): Promise<MethodResult<'getPair'>> {
    const row = this.store.pairs.forLabeling(args.pairId);
    if (!row) throw new StudioError('not_found', `no pair ${args.pairId} in ${this.store.file}`);
    const annotatorId = this.store.decisions.findAnnotator(args.annotator)?.id;
    const current =
      annotatorId === undefined ? null : this.store.decisions.current(row.pairId, annotatorId);
    return this.labelPair(row, current, annotatorId ?? null);
  }

  async recordDecision(
    args: ParsedArgs<'recordDecision'>,
  ): Promise<MethodResult<'recordDecision'>> {
    if (!this.store.pairs.forLabeling(args.pairId)) {
      throw new StudioError('not_found', `no pair ${args.pairId} in ${this.store.file}`);
    }
    const annotatorId = this.store.decisions.annotatorId(args.annotator, 'human');
    const [annotationId] = this.store.decisions.record([
      {
        pairId: args.pairId,
        annotatorId,
        decision: args.decision,
        leftImage: args.leftImage,
        suggestionVisible: args.suggestionVisible,
        decisionMs: args.decisionMs,
        createdAt: Date.now(),
      },
    ]);
    return { annotationId: annotationId!, progress: this.progress(args.annotator, annotatorId) };
  }

  async undoLast(args: ParsedArgs<'undoLast'>): Promise<MethodResult<'undoLast'>> {
    const annotator = this.store.decisions.findAnnotator(args.annotator);
    // Labels that came with a dataset or a manifest are not anyone's to take back in the app.
    if (annotator && annotator.kind !== 'human') throw nameTaken(args.annotator, annotator.kind);
    const latest = annotator && this.store.decisions.latestStanding(annotator.id);
    if (!annotator || !latest) {
      return { undone: null, progress: this.progress(args.annotator, annotator?.id ?? null) };
    }
    this.store.decisions.record([
      {
        pairId: latest.pairId,
        annotatorId: annotator.id,
        undoes: latest.id,
        createdAt: Date.now(),
      },
    ]);
    return {
      undone: { annotationId: latest.id, pairId: latest.pairId, leftImage: latest.leftImage },
      progress: this.progress(args.annotator, annotator.id),
    };
  }

  async scorePairs(args: ParsedArgs<'scorePairs'>): Promise<MethodResult<'scorePairs'>> {
    const active = this.store.scores.activeModel();
    if (args.model === undefined && !active) {
      throw new StudioError(
        'invalid_argument',
        `${this.store.file} has no model yet: name a model folder`,
      );
    }
    this.scoringRuns++;
    try {
      return await this.tasks.run('score', 'items', args.taskId, async (context) => {
        const record = args.model === undefined ? active! : await this.folderRecord(args.model);
        // A model whose cache holds every prompt and image (encoded earlier, or imported) scores
        // with no model run: no session starts (and with no folder named, none is read).
        const known = this.store.scores.modelByFingerprint(record.fingerprint);
        const pending = known && this.store.scores.pendingCounts(known.id);
        if (known && pending!.prompts + pending!.images === 0) {
          return scoreFromCache(this.store, known, context);
        }
        const model = await loadModel(record.folder, args.provider, this.options.scoringWorker);
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

  /** A model folder checked (without running it), as the models table records it. */
  private async folderRecord(dir: string) {
    const folder = await loadModelFolder(dir);
    return {
      fingerprint: folder.fingerprint,
      name: folder.manifest.name,
      manifest: JSON.stringify(folder.manifest),
      folder: folder.dir,
    };
  }

  /**
   * Scores, in the background, the pairs the project's active model has not scored yet (pairs
   * imported since, or a run cut short by a restart). Doors call it when they open a project;
   * it never throws, and resolves when done or cancelled (task id `background-scoring`).
   */
  async scoreInBackground(log: (message: string) => void = console.error): Promise<void> {
    // Reading the model and the counts is inside the try too: a rejection here would be
    // unhandled in the doors, which start this without awaiting it, and end `pickstudio serve`.
    let withModel = '';
    try {
      const model = this.store.scores.activeModel();
      if (!model || this.store.scores.scoredCount(model.id) >= this.store.pairs.count()) return;
      withModel = ` with ${model.name}`;
      await this.scorePairs({ taskId: BACKGROUND_SCORING });
    } catch (error) {
      log(`background scoring${withModel} stopped: ${(error as Error).message}`);
    }
  }

  async addModel(args: ParsedArgs<'addModel'>): Promise<MethodResult<'addModel'>> {
    const record = await this.folderRecord(args.folder);
    this.store.scores.activate(record);
    const { fingerprint } = record;
    return (await this.listModels()).find((m) => m.fingerprint === fingerprint)!;
  }

  async importEmbeddings(
    args: ParsedArgs<'importEmbeddings'>,
  ): Promise<MethodResult<'importEmbeddings'>> {
    const started = performance.now();
    this.store.assertWritable('importEmbeddings');
    const files = await this.tasks.run('import', 'rows', args.taskId, async (context) => {
      const given = args.model === undefined ? null : await this.folderRecord(args.model);
      return importEmbeddings(this.store, args.sources, given, context);
    });
    return { files, seconds: (performance.now() - started) / 1000 };
  }

  exportEmbeddings(
    args: ParsedArgs<'exportEmbeddings'>,
  ): Promise<MethodResult<'exportEmbeddings'>> {
    return this.tasks.run('export', 'embeddings', args.taskId, (context) =>
      exportEmbeddings(this.store, args, context, this.parquetWorker),
    );
  }

  async listModels(): Promise<MethodResult<'listModels'>> {
    const totalPairs = this.store.pairs.count();
    return this.store.scores.models().map((m) => ({
      name: m.name,
      fingerprint: m.fingerprint,
      folder: m.folder,
      active: m.active,
      scoredPairs: m.scored,
      totalPairs,
    }));
  }

  async getAudit(args: ParsedArgs<'getAudit'>): Promise<MethodResult<'getAudit'>> {
    return this.audit(args);
  }

  async getAuditTunedOn(
    args: ParsedArgs<'getAuditTunedOn'>,
  ): Promise<MethodResult<'getAuditTunedOn'>> {
    return this.audit(args);
  }

  /** Without resamples, the figures; with them, the intervals: kept, or as a task. */
  private async audit(args: ParsedArgs<'getAuditTunedOn'> | ParsedArgs<'getAudit'>) {
    if (args.resamples === 0) return this.reports.figures(args);
    const kept = this.reports.kept(args);
    if (kept) return kept;
    return this.tasks.run('intervals', 'resamples', args.taskId, (context) =>
      this.reports.intervals(args, context),
    );
  }

  async listDisagreements(
    args: ParsedArgs<'listDisagreements'>,
  ): Promise<MethodResult<'listDisagreements'>> {
    return listDisagreements(this.store, (await this.getSettings()).tieThreshold, args);
  }

  async adjudicate(args: ParsedArgs<'adjudicate'>): Promise<MethodResult<'adjudicate'>> {
    if (!this.store.pairs.forLabeling(args.pairId)) {
      throw new StudioError('not_found', `no pair ${args.pairId} in ${this.store.file}`);
    }
    return { adjudicationId: this.store.decisions.adjudicate(args) };
  }

  async setGold(args: ParsedArgs<'setGold'>): Promise<MethodResult<'setGold'>> {
    const done = this.store.gold.set(args.pairs, args.setBy, this.store.file);
    return { ...done, goldPairs: this.store.gold.list().length };
  }

  async listGold(): Promise<MethodResult<'listGold'>> {
    return this.store.gold.list();
  }

  async getScoringStatus(): Promise<MethodResult<'getScoringStatus'>> {
    const model = this.store.scores.activeModel();
    return {
      model: model?.name ?? null,
      provider: this.scoring?.provider ?? null,
      providerFailures: this.scoring?.failures ?? [],
      scoredPairs: model ? this.store.scores.scoredCount(model.id) : 0,
      totalPairs: this.store.pairs.count(),
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
    this.events.settings(settings);
    return settings;
  }

  async getGuidelines(): Promise<MethodResult<'getGuidelines'>> {
    const stored = this.store.meta(GUIDELINES_KEY);
    if (stored === undefined) return null;
    const guidelines = guidelinesSchema.parse(JSON.parse(stored));
    return guidelines.text.trim() === '' ? null : guidelines;
  }

  async setGuidelines(args: ParsedArgs<'setGuidelines'>): Promise<MethodResult<'setGuidelines'>> {
    const bytes = Buffer.byteLength(args.text, 'utf8');
    if (bytes > MAX_GUIDELINES_BYTES) {
      throw new StudioError(
        'invalid_argument',
        `guidelines of ${bytes.toLocaleString('en')} bytes: at most ${MAX_GUIDELINES_BYTES.toLocaleString('en')} (100 kB) fit; shorten them, or link to a longer document`,
      );
    }
    const text = args.text.trim() === '' ? '' : args.text;
    this.store.setMeta(GUIDELINES_KEY, JSON.stringify({ text, updatedAt: Date.now() }));
    const guidelines = await this.getGuidelines();
    this.events.guidelines?.(guidelines);
    return guidelines;
  }

  async flagPair(args: ParsedArgs<'flagPair'>): Promise<MethodResult<'flagPair'>> {
    if (!this.store.pairs.forLabeling(args.pairId)) {
      throw new StudioError('not_found', `no pair ${args.pairId} in ${this.store.file}`);
    }
    const annotatorId = this.store.decisions.annotatorId(args.annotator, 'human');
    const createdAt = Date.now();
    this.store.flags.set(args.pairId, annotatorId, args.note, createdAt);
    return { note: args.note, createdAt };
  }

  async clearFlag(args: ParsedArgs<'clearFlag'>): Promise<MethodResult<'clearFlag'>> {
    const annotator = this.store.decisions.findAnnotator(args.annotator);
    return { cleared: annotator ? this.store.flags.clear(args.pairId, annotator.id) : false };
  }

  async getHistory(args: ParsedArgs<'getHistory'>): Promise<MethodResult<'getHistory'>> {
    const annotator = this.store.decisions.findAnnotator(args.annotator);
    if (!annotator) return [];
    const model = this.store.scores.activeModel();
    return this.store.decisions.history(annotator.id, args.limit).map((row) => ({
      ...row,
      ...this.historySuggestion(model, row.pairId),
    }));
  }

  /** An image's bytes for the doors' image routes; not part of the contract's RPC methods. */
  readImage(uid: string): Promise<ImageBytes> {
    return readImage(this.store.images, uid);
  }

  /** The pair for the view, with the annotator's standing decision and the side it was made on. */
  private labelPair(
    row: PairForLabeling,
    current: CurrentDecision | null,
    annotatorId: number | null,
  ): LabelPair {
    const model = this.store.scores.activeModel();
    const score = model && this.store.scores.scoreOf(model.id, row.pairId);
    const available = (stored: number, path: string | null): boolean =>
      stored === 1 || (path !== null && fs.existsSync(path));
    return {
      pairId: row.pairId,
      prompt: row.prompt,
      image0: { uid: row.uid0, available: available(row.stored0, row.path0) },
      image1: { uid: row.uid1, available: available(row.stored1, row.path1) },
      // Random per showing, and recorded with the decision, so position bias can be measured; a
      // decided pair comes back the way round it was decided.
      leftImage: current?.leftImage ?? (randomInt(2) as 0 | 1),
      decision: current?.decision ?? null,
      suggestion: score
        ? { model: model.name, score0: score.score_0, score1: score.score_1, p0: score.p_0 }
        : null,
      flag: annotatorId === null ? null : this.store.flags.noteOf(row.pairId, annotatorId),
    };
  }

  private historySuggestion(
    model: { id: number; name: string } | undefined,
    pairId: number,
  ): { model: string | null; p0: number | null } {
    const score = model && this.store.scores.scoreOf(model.id, pairId);
    return score ? { model: model.name, p0: score.p_0 } : { model: null, p0: null };
  }

  private progress(annotator: string, annotatorId: number | null): LabelProgress {
    const counts =
      annotatorId === null
        ? { decided: 0, skipped: 0, lastHour: 0 }
        : this.store.decisions.counts(annotatorId);
    return { annotator, ...counts, total: this.store.pairs.count() };
  }
}
