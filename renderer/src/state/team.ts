/**
 * What the project's role (shared/api.ts ROLES) means for the page: who labels, where the `g`
 * keys lead, and what an annotator does with a finished
 * package. Pure, so the rules are tested without a page (tests/unit/team-ui.test.ts).
 */
import type { MergeSourceKind, MethodResult, Role } from '../../../shared/api';
import type { Destination } from '../../../shared/keys';

/** The project as getProject describes it: its role and, for a package, whom it is for. */
export interface ProjectRole {
  role: Role;
  /** The package's annotator; null in a lead's project. */
  annotator: string | null;
}

export const LEAD_PROJECT: ProjectRole = { role: 'lead', annotator: null };

export interface Labeler {
  /** Who labels; null until someone says (the name form shows). */
  name: string | null;
  /**
   * True in a package: the name is the package's, fixed by the lead when making it, so no form
   * asks it and nothing offers to switch it (labels under another name would come back to the
   * lead as another annotator's).
   */
  fixed: boolean;
}

/** The package's annotator in a package; elsewhere the name this browser remembers, or none. */
export function labelerOf(project: ProjectRole, chosen: string | null): Labeler {
  if (project.role === 'annotator' && project.annotator !== null) {
    return { name: project.annotator, fixed: true };
  }
  return { name: chosen, fixed: false };
}

/** Which views the project shows, whatever the `g` keys ask for: a package labels only. */
export function canGo(role: Role, destination: Destination): boolean {
  return role === 'lead' || destination === 'labeling';
}

/** The file's name from the project's path as the core reports it (either separator). */
export function fileNameOf(project: string): string {
  return project.split(/[\\/]/).pop() || project;
}

/**
 * What an annotator does once every pair of the package is decided. The file is whole once the
 * app lets it go: until then the latest labels may sit in its `-wal` file beside it.
 */
export function returnSteps(file: string, door: 'electron' | 'browser'): string[] {
  return [
    door === 'electron'
      ? 'Quit Pick Studio, so that every label is written into the file.'
      : 'Stop pickstudio serve (Ctrl+C in its terminal), so that every label is written into the file.',
    `Send ${file} back to your lead: your labels are in it, and the lead merges them into the project.`,
    'Change or add labels in it later? Send it again: merging adds only what is new.',
  ];
}

export type MergeRecord = MethodResult<'listMerges'>[number];

/** One merged file as the audit's Merged tab lists it. */
export interface MergeRow {
  /** The file's name; `path` is where it was when merged. */
  file: string;
  path: string;
  kind: MergeSourceKind;
  /** Whose labels it carries, by their names in this project. */
  who: string;
  mergedAt: number;
  /** Events it added to the annotation log: decisions, skips and undos. */
  added: number;
}

export function mergeRow(record: MergeRecord): MergeRow {
  return {
    file: fileNameOf(record.file),
    path: record.file,
    kind: record.kind,
    who: record.annotators.length > 0 ? record.annotators.join(', ') : 'nobody (no labels in it)',
    mergedAt: record.mergedAt,
    added: record.annotationsAdded,
  };
}
