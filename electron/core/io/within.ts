import path from 'node:path';

/**
 * Whether `candidate` (an absolute path) is `folder` or lies below it, by their spelling: resolve
 * links first where a link may lead out.
 */
export function isWithin(folder: string, candidate: string): boolean {
  const relative = path.relative(folder, candidate);
  return (
    relative === '' ||
    (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative))
  );
}
