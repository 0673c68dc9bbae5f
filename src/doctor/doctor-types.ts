/** What `snakepit doctor` reports: one line per check, each with the fix when it is not fine. */

/** `ok` ✓, `warn` ! (works, but could be better), `fail` ✗ (will not work), `skip` – (could not be checked). */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface DoctorCheck {
  /** Stable id, e.g. `python`, `bridge`, `adapter:default`, `optional:numpy`. */
  id: string;
  status: CheckStatus;
  /** One line: what was found. */
  message: string;
  /** The exact thing to do, when status is `warn` or `fail`. */
  fix?: string;
  /** More lines (a traceback's last lines, resolution notes). */
  details?: string[];
  /** How long the check took (an import, a worker start), in ms. */
  ms?: number;
}

export interface DoctorReport {
  /** False when any check failed. */
  ok: boolean;
  checks: DoctorCheck[];
  /** The interpreter checked, when one was found. */
  python?: { executable: string; source: string; version?: string };
  /** The config file read, when there is one. */
  configFile?: string;
}
