/** node_modules/electron, or null where the package is not installed. */
export function electronPackageDir(): string | null;
/** The binary's path, or why there is none, found without downloading it. */
export function electronBinary(): { path: string } | { missing: string };
