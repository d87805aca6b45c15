import { randomInt, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ProjectSettings } from '../../../shared/api';
import { StudioError } from '../../../shared/errors';
import { publishDurably } from '../io/durable';
import { inspectImage } from '../io/images';
import { removeLeftoversOfGoneProcesses } from '../io/leftovers';
import { refuseProjectFileAsOutput } from '../io/same-file';
import { IDENTITY_KEYS } from '../store/merge';
import type { ImageToCopy } from '../store/packages';
import { ProjectStore } from '../store/project-store';
import type { TaskContext } from '../tasks';

export interface PackageOptions {
  out: string;
  annotator: string;
  pairs?: number;
  overlap?: number;
  /** Gold pairs to mix in; default every gold pair, at most MAX_GOLD_SHARE of the package. */
  gold?: number;
  /** The lead's settings: the package labels under the same suggestion mode and threshold. */
  settings: ProjectSettings;
  /** Where the package keeps its settings (the service's key). */
  settingsKey: string;
  /** Where the lead's guidelines are (the service's key): the package shows them as they are. */
  guidelinesKey?: string;
}

/**
 * Makes an annotator's package from the lead's project: a project of its own, in annotator role,
 * holding the chosen pairs with every image's bytes (manifest images are read from their files
 * now, so the package opens on any machine), the active model's scores, the lead's suggestion
 * mode, and its origin: the lead's project id and a package id. The file appears under its name
 * only once complete; the lead's project records the package only then.
 */
export async function makePackage(
  lead: ProjectStore,
  options: PackageOptions,
  context: TaskContext,
): Promise<{
  out: string;
  packageId: string;
  annotator: string;
  pairs: number;
  goldPairs: number;
  images: number;
  bytes: number;
}> {
  const out = path.resolve(options.out);
  checkTarget(out, lead.file);
  // The lead's project records the package at the end: a read-only one fails now, not then.
  lead.assertWritable('makePackage');
  const modelId = lead.scores.activeModel()?.id ?? null;
  const overlap = options.overlap ?? options.settings.overlap ?? 1;
  const { regular, gold } = choosePairs(lead, options, overlap, modelId);
  const pairIds = mixInGold(regular, gold);
  if (regular.length === 0) {
    throw new StudioError(
      'bad_input',
      `${lead.file}: no pairs left for ${JSON.stringify(options.annotator)}: every pair is in ${overlap} package${overlap === 1 ? '' : 's'} already, or in one of theirs (--overlap raises the limit)`,
    );
  }
  const folder = path.dirname(out);
  const prefix = `.${path.basename(out)}.partial-`;
  removeLeftoversOfGoneProcesses(folder, prefix);
  const partial = path.join(folder, `${prefix}${process.pid}-${Date.now()}`);
  const packageId = randomUUID();
  let annotatorUid: string;
  let images: number;
  try {
    const pkg = ProjectStore.open(partial, { create: true });
    try {
      const renumber = gold.length > 0;
      await copyImagesInto(pkg, pkg.copyPairsFrom(lead.file, pairIds, modelId, renumber), context);
      annotatorUid = markAsPackage(pkg, lead, options, packageId);
      images = pkg.counts().images;
    } finally {
      pkg.close();
    }
    publishDurably(partial, out);
  } catch (error) {
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(partial + suffix, { force: true });
    throw error;
  }
  lead.packages.record({
    id: packageId,
    annotator: options.annotator,
    annotatorUid,
    file: out,
    pairIds,
  });
  return {
    out,
    packageId,
    annotator: options.annotator,
    pairs: pairIds.length,
    goldPairs: gold.length,
    images,
    bytes: fs.statSync(out).size,
  };
}

/**
 * The most of a package that gold pairs take by default: enough to score an annotator (a fifth
 * of 50 pairs is 10 gold), not so many that the package is mostly a test, or that gold pairs,
 * which every package shares, stand out by being met everywhere.
 */
export const MAX_GOLD_SHARE = 0.2;

/**
 * The package's pairs: `regular` by the lead's assignment rules (store/packages.ts `choose`), and
 * gold pairs this annotator has not had, a random draw of them. `--pairs N` counts both: N - g
 * regular pairs and g gold ones, g at most a fifth of N by default (`gold` sets it), and always
 * fewer than N, so a package is never gold alone.
 */
function choosePairs(
  lead: ProjectStore,
  options: PackageOptions,
  overlap: number,
  modelId: number | null,
): { regular: number[]; gold: number[] } {
  const available = shuffled(lead.packages.goldFor(options.annotator));
  const share = (total: number): number =>
    Math.min(options.gold ?? Math.floor(total * MAX_GOLD_SHARE), Math.max(0, total - 1));
  const wanted = options.pairs;
  const goldCount =
    wanted !== undefined ? Math.min(available.length, share(wanted)) : available.length;
  const regular = lead.packages.choose({
    annotator: options.annotator,
    overlap,
    count: wanted !== undefined ? wanted - goldCount : lead.pairs.count(),
    order: options.settings.queueOrder,
    modelId,
  });
  // Without --pairs the package is every regular pair left, plus its share of gold.
  const gold =
    wanted !== undefined
      ? available.slice(0, goldCount)
      : available.slice(
          0,
          options.gold ?? Math.floor((regular.length * MAX_GOLD_SHARE) / (1 - MAX_GOLD_SHARE)),
        );
  return { regular, gold };
}

/** A uniformly random order (Fisher-Yates with crypto's randomInt: no annotator can predict it). */
function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * The order the package hands pairs out in: the regular pairs in their order, and the gold pairs
 * spread among them, one at a random place in each of `gold.length` equal stretches of the
 * package (stratified, so they neither bunch up nor fall into a pattern), never first or last
 * where the package has room.
 */
export function mixInGold(regular: number[], gold: number[], random = randomInt): number[] {
  if (gold.length === 0) return regular;
  const total = regular.length + gold.length;
  const at = new Map<number, number>();
  gold.forEach((pairId, j) => {
    const from = Math.floor((j * total) / gold.length);
    const to = Math.floor(((j + 1) * total) / gold.length); // exclusive
    const low = Math.max(from, 1);
    const high = Math.min(to, total - 1);
    at.set(low < high ? low + random(high - low) : from + random(to - from), pairId);
  });
  const out: number[] = [];
  let next = 0;
  for (let position = 0; position < total; position++) {
    out.push(at.get(position) ?? regular[next++]!);
  }
  return out;
}

function checkTarget(out: string, leadFile: string): void {
  refuseProjectFileAsOutput(out, leadFile, "the lead's project");
  if (fs.existsSync(out)) {
    throw new StudioError('invalid_argument', `${out}: already exists; choose a new file name`);
  }
  if (!fs.existsSync(path.dirname(out))) {
    throw new StudioError('not_found', `${out}: the folder ${path.dirname(out)} does not exist`);
  }
}

/** Reads the bytes of the images the lead keeps as files, checked as an import checks them. */
async function copyImagesInto(
  pkg: ProjectStore,
  images: ImageToCopy[],
  context: TaskContext,
): Promise<void> {
  for (const [index, image] of images.entries()) {
    context.throwIfCancelled();
    if (image.path === null) {
      throw new StudioError(
        'bad_input',
        `image ${image.uid}: the project has no bytes of it (a Pick-a-Pic shard imported without its jpg columns); import the shard with its images, then make the package`,
      );
    }
    let bytes: Buffer;
    try {
      bytes = await fs.promises.readFile(image.path);
    } catch (error) {
      throw new StudioError(
        'not_found',
        `image ${image.uid}: cannot read ${image.path} (${(error as Error).message}); the package needs its bytes`,
      );
    }
    try {
      pkg.addImageBytes(image.id, await inspectImage(bytes));
    } catch (error) {
      throw new StudioError(
        'bad_input',
        `image ${image.uid} (${image.path}): ${(error as Error).message}`,
      );
    }
    context.progress(index + 1, images.length, 'images');
  }
}

/** Annotator role, origin, settings and the package's annotator; returns the annotator's uid. */
function markAsPackage(
  pkg: ProjectStore,
  lead: ProjectStore,
  options: PackageOptions,
  packageId: string,
): string {
  pkg.setMeta(IDENTITY_KEYS.role, 'annotator');
  pkg.setMeta(IDENTITY_KEYS.originProject, lead.projectId);
  pkg.setMeta(IDENTITY_KEYS.packageId, packageId);
  pkg.setMeta(IDENTITY_KEYS.annotator, options.annotator);
  // The package hands out its pairs in order; the lead's overlap was applied in choosing them.
  pkg.setMeta(
    options.settingsKey,
    JSON.stringify({ ...options.settings, overlap: null, queueOrder: 'project' }),
  );
  const guidelines = options.guidelinesKey && lead.meta(options.guidelinesKey);
  if (guidelines) pkg.setMeta(options.guidelinesKey!, guidelines);
  pkg.decisions.annotatorId(options.annotator, 'human');
  return pkg.decisions.findAnnotator(options.annotator)!.uid;
}
