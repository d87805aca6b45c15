import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  filePathSchema,
  LOCAL_ONLY_METHODS,
  PAGE_METHODS,
  STUDIO_METHODS,
  studioContract,
} from '../../shared/api';
import { StudioError } from '../../shared/errors';
import {
  labelsToVerdict,
  parseVerdict,
  swapVerdict,
  verdictToLabels,
  VERDICTS,
} from '../../shared/labels';
import { StudioService } from '../../electron/core/service';
import { openTestProject, tempDir } from '../helpers/project';

describe('label encoding', () => {
  it("maps verdicts to Pick-a-Pic's (label_0, label_1) and back", () => {
    expect(VERDICTS.map(verdictToLabels)).toEqual([
      { label_0: 1, label_1: 0 },
      { label_0: 0, label_1: 1 },
      { label_0: 0.5, label_1: 0.5 },
    ]);
    for (const verdict of VERDICTS) {
      const { label_0, label_1 } = verdictToLabels(verdict);
      expect(labelsToVerdict(label_0, label_1)).toBe(verdict);
    }
    expect(labelsToVerdict(0.3, 0.7)).toBeNull();
    expect(labelsToVerdict(1, 1)).toBeNull();
    expect(labelsToVerdict(NaN, NaN)).toBeNull();
  });

  it('parses what people write, and swaps sides', () => {
    expect(['0', ' 1 ', 'TIE', '0.5', 'left', ''].map(parseVerdict)).toEqual([
      0,
      1,
      'tie',
      'tie',
      null,
      null,
    ]);
    expect(VERDICTS.map(swapVerdict)).toEqual([1, 0, 'tie']);
  });
});

describe('dispatcher', () => {
  it('has a handler in core for every method of the contract', () => {
    for (const method of STUDIO_METHODS) {
      expect(typeof StudioService.prototype[method], method).toBe('function');
    }
    expect(Object.keys(studioContract).sort()).toEqual([...STUDIO_METHODS].sort());
  });

  it('refuses unknown methods, wrong types and unknown fields before core sees them', async () => {
    const { dispatch, store } = openTestProject(path.join(tempDir(), 'p.pickstudio'));
    const refused = async (method: string, args: unknown) => {
      const error = await dispatch(method, args).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StudioError);
      return error as StudioError;
    };
    expect((await refused('dropTables', {})).code).toBe('unknown_method');
    expect((await refused('toString', {})).code).toBe('unknown_method');
    // Service methods outside the contract are not reachable through a door.
    expect((await refused('readImage', { uid: 'x' })).code).toBe('unknown_method');
    const wrongType = await refused('listPairs', { limit: 'ten' });
    expect(wrongType.code).toBe('invalid_argument');
    expect(wrongType.message).toMatch(/listPairs: limit:/);
    expect((await refused('listPairs', { limit: 10, sneaky: true })).message).toMatch(/sneaky/);
    expect((await refused('importSources', { sources: [] })).code).toBe('invalid_argument');
    expect((await refused('exportParquet', { out: 42 })).message).toMatch(/out/);
    expect((await refused('getStats', { annotator: 'nobody' })).code).toBe('not_found');
    expect(await dispatch('listPairs', undefined)).toEqual([]);
    expect(await dispatch('cancelTask', { taskId: 'nothing-running' })).toEqual({
      cancelled: false,
    });
    store.close();
  });

  it('makes local-only exactly the methods that take a file or folder, whatever the nesting', () => {
    // A field takes a path when it is filePathSchema, optional, defaulted or in an array.
    const takesPath = (schema: z.ZodType): boolean => {
      if (schema === filePathSchema) return true;
      if (
        schema instanceof z.ZodOptional ||
        schema instanceof z.ZodDefault ||
        schema instanceof z.ZodNullable
      ) {
        return takesPath(schema.unwrap() as z.ZodType);
      }
      if (schema instanceof z.ZodArray) return takesPath(schema.element as z.ZodType);
      if (schema instanceof z.ZodObject) {
        return Object.values(schema.shape as Record<string, z.ZodType>).some(takesPath);
      }
      return false;
    };
    const withPaths = STUDIO_METHODS.filter((m) => takesPath(studioContract[m].args));
    expect(withPaths.sort()).toEqual([...LOCAL_ONLY_METHODS].sort());
    expect([...PAGE_METHODS, ...LOCAL_ONLY_METHODS].sort()).toEqual([...STUDIO_METHODS].sort());
    expect(PAGE_METHODS.filter((m) => LOCAL_ONLY_METHODS.has(m))).toEqual([]);
  });

  it("refuses local-only methods to the page's dispatch, whatever their arguments; a local door calls them", async () => {
    const dir = tempDir();
    const { studio, store } = openTestProject(path.join(dir, 'p.pickstudio'));
    for (const method of LOCAL_ONLY_METHODS) {
      for (const args of [{}, { out: path.join(dir, 'x.parquet') }, 'text']) {
        const error = await studio.dispatchFromPage(method, args).then(
          () => null,
          (e: unknown) => e,
        );
        expect(error, method).toBeInstanceOf(StudioError);
        expect((error as StudioError).code, method).toBe('not_allowed');
        expect((error as StudioError).message, method).toMatch(new RegExp(`^${method} `));
      }
    }
    // The same calls through the local entry reach the schema and the handler.
    const wrong = await studio.dispatch('exportParquet', {}).then(
      () => null,
      (e: unknown) => e as StudioError,
    );
    expect(wrong?.code).toBe('invalid_argument');
    const out = path.join(dir, 'local.parquet');
    expect((await studio.call('exportParquet', { out, images: false })).out).toBe(out);
    // The page's methods pass the page's entry as they pass the local one.
    expect(await studio.dispatchFromPage('listPairs', {})).toEqual([]);
    expect(await studio.dispatchFromPage('getSettings', {})).toEqual(
      await studio.dispatch('getSettings', {}),
    );
    store.close();
  });

  it('errors survive a round trip through JSON, as they cross IPC and HTTP', () => {
    const error = StudioError.fromJSON(
      JSON.parse(JSON.stringify(new StudioError('newer_project', 'too new'))),
    );
    expect(error).toMatchObject({ code: 'newer_project', message: 'too new' });
    expect(StudioError.fromJSON({ code: 'bogus', message: 'x' }).code).toBe('internal');
  });
});
