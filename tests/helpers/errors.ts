import { expect } from 'vitest';
import { StudioError } from '../../shared/errors';

/** Runs a call, expecting it to fail with a StudioError; returns it. */
export async function failure(call: Promise<unknown>): Promise<StudioError> {
  let caught: unknown;
  try {
    await call;
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(StudioError);
  return caught as StudioError;
}

/** The same for something that throws at once. */
export function thrownBy(run: () => unknown): StudioError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(StudioError);
  return caught as StudioError;
}
