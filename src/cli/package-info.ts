import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface PackageJson {
  name?: string;
  version?: string;
  repository?: string | { url?: string };
}

let found: PackageJson | undefined;

/** The package's own package.json (found by walking up from this module). */
function ownPackage(): PackageJson {
  if (found) return found;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
      if (pkg.name === 'snakepit') return (found = pkg);
    } catch {
      /* keep walking */
    }
    dir = dirname(dir);
  }
  return (found = {});
}

/** The version in the package's own package.json. */
export function readPackageVersion(): string {
  return ownPackage().version ?? '0.0.0';
}

/**
 * The repository's web address, from package.json's `repository` (the one place it is configured):
 * `git+https://host/owner/name.git` → `https://host/owner/name`.
 */
export function repositoryUrl(): string {
  const repo = ownPackage().repository;
  const url = (typeof repo === 'string' ? repo : repo?.url) ?? '';
  return url.replace(/^git\+/, '').replace(/\.git$/, '');
}
