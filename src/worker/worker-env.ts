/**
 * What of the host's environment a worker process inherits (docs/SECURITY.md, "Worker environment").
 *
 * Workers run library code the host does not control, so host secrets stay in the host: every variable is passed
 * on except those that look like secrets —
 *   - by name: it contains SECRET, PASSWORD, PASSWD, PASSPHRASE, CREDENTIAL or APIKEY anywhere (`PGPASSWORD`), or
 *     one of its words (split on `_`, `-` and `.`) is TOKEN, KEY, PASS, AUTH, COOKIE or PRIVATE
 *     (`SNAKEPIT_GRPC_TOKEN`, `OPENAI_API_KEY`, `HF_TOKEN`; not `TOKENIZERS_PARALLELISM`);
 *   - by value: a URL with a password in it (`postgres://user:pw@db/app`).
 * A pool's `env` is passed as given: that is how a worker gets a secret it needs (`env: { HF_TOKEN: ... }`).
 * The same rule, for `serve --grpc` and Snakepit-style workers, is python/snakepit_bridge/remote/worker_env.py
 * (there `SNAKEPIT_PASS_ENV` names the variables passed as given).
 */

/** Parts of a variable's name that mark it as a secret wherever they appear. */
export const SECRET_PARTS: readonly string[] = [
  'SECRET',
  'PASSWORD',
  'PASSWD',
  'PASSPHRASE',
  'CREDENTIAL',
  'APIKEY',
];
/** Words of a variable's name (between `_`, `-` and `.`) that mark it as a secret. */
export const SECRET_WORDS: ReadonlySet<string> = new Set([
  'TOKEN',
  'KEY',
  'PASS',
  'AUTH',
  'COOKIE',
  'PRIVATE',
]);

const URL_WITH_PASSWORD = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/@\s:]*:[^/@\s]+@/;

/** Whether the variable `name=value` is withheld from workers. */
export function isSecretVariable(name: string, value: string | undefined): boolean {
  const upper = name.toUpperCase();
  if (SECRET_PARTS.some((part) => upper.includes(part))) return true;
  if (upper.split(/[_.-]+/).some((word) => SECRET_WORDS.has(word))) return true;
  return value !== undefined && URL_WITH_PASSWORD.test(value);
}

/** The host's environment as a worker inherits it: `env` (default `process.env`) without its secrets. */
export function inheritedEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    if (!isSecretVariable(name, value)) out[name] = value;
  }
  return out;
}
