/**
 * Helpers for the security suite: every test runs a real attack against real workers and checks that it is
 * refused with a typed error and that nothing ran (a marker file the attack would create never appears).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Marker {
  /** Where the attack would write. */
  path: string;
  /** Whether the attack's code ran. */
  exists(): boolean;
  remove(): void;
}

/** A fresh marker path in a temporary directory of its own. */
export function marker(label: string): Marker {
  const dir = mkdtempSync(join(tmpdir(), `snakepit-attack-${label}-`));
  const path = join(dir, 'pwned');
  return {
    path,
    exists: () => existsSync(path),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The error a promise rejects with (the test fails if it resolves, showing what came back). */
export async function refusal(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    (value) => {
      throw new Error(`expected a refusal, got ${String(value)}`);
    },
    (err: unknown) => err as Error,
  );
}
