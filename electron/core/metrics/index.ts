/**
 * Agreement metrics over verdict tables: pure functions, no database, no Node APIs. See
 * dashboard.ts for the one-call entry point and each file for formulas and sources.
 */
export * from './agreement';
export * from './bootstrap';
export * from './calibration';
export * from './categories';
export * from './dashboard';
export * from './pickscore-protocol';
export * from './prng';
export * from './sampling';
export type * from '../../../shared/audit';
