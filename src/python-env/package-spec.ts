/**
 * Requirement specifiers accepted by `PythonPackages` and `python.packages`: a strict subset of PEP 508.
 *
 *   name            numpy, scikit-learn, zope.interface   (letters, digits, ".", "_", "-")
 *   [extras]        pandas[excel,performance]
 *   version clauses ==1.2.3  !=1.2.*  >=1.26  <2  ~=1.4  >1  <=2  ===weird   (comma-separated)
 *
 * No URLs, paths, environment markers, options or whitespace tricks: a spec reaches pip as one argument of an
 * argument vector, never through a shell, and anything outside this grammar is refused before a process starts.
 */
import { ConfigError } from '../errors/errors.js';

/** One `operator version` clause. */
export interface VersionClause {
  op: '~=' | '==' | '!=' | '<=' | '>=' | '<' | '>' | '===';
  version: string;
}

/** A parsed requirement. */
export interface RequirementSpec {
  /** The spec as given. */
  spec: string;
  /** The distribution name as given. */
  name: string;
  /** PEP 503 normalised name (`scikit_learn` → `scikit-learn`). */
  normalizedName: string;
  extras: string[];
  clauses: VersionClause[];
}

const NAME = '[A-Za-z0-9](?:[A-Za-z0-9._-]{0,98}[A-Za-z0-9])?';
const NAME_RE = new RegExp(`^${NAME}$`);
const SPEC_RE = new RegExp(`^\\s*(${NAME})\\s*(?:\\[([A-Za-z0-9._,\\s-]*)\\])?\\s*(.*?)\\s*$`);
const CLAUSE_RE = /^(~=|===|==|!=|<=|>=|<|>)\s*([A-Za-z0-9][A-Za-z0-9.+!_-]*(?:\.\*)?)$/;
const MAX_SPEC_LENGTH = 200;

/** PEP 503: lower case, runs of `-`, `_`, `.` become one `-`. */
export function normalizePackageName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/**
 * Parse `spec`, or throw.
 * @param key what to name in the error, e.g. `python.packages[2]`
 * @throws ConfigError saying what is wrong and what a good spec looks like
 */
export function checkRequirementSpec(spec: unknown, key: string): RequirementSpec {
  const bad = (why: string): ConfigError =>
    new ConfigError(
      key,
      `${why}; expected a package name with optional [extras] and version clauses, such as "numpy>=1.26" or ` +
        `"pandas[excel]==2.2.*,!=2.2.1" (no URLs, paths, markers or options)`,
    );
  if (typeof spec !== 'string') throw bad(`must be a string, got ${typeof spec}`);
  if (spec.length === 0 || spec.length > MAX_SPEC_LENGTH) {
    throw bad(`must be 1-${MAX_SPEC_LENGTH} characters, got ${spec.length}`);
  }
  const m = SPEC_RE.exec(spec);
  if (!m) throw bad(`${JSON.stringify(spec)} does not start with a valid package name`);
  const [, name, extrasText, rest] = m as unknown as [string, string, string | undefined, string];
  const extras = extrasText === undefined ? [] : extrasText.split(',').map((e) => e.trim());
  if (extras.some((e) => !NAME_RE.test(e)))
    throw bad(`${JSON.stringify(spec)} has a malformed [extras] list`);
  const clauses: VersionClause[] = [];
  if (rest.length > 0) {
    for (const part of rest.split(',')) {
      const c = CLAUSE_RE.exec(part.trim());
      if (!c)
        throw bad(`${JSON.stringify(spec)} has a malformed version clause ${JSON.stringify(part.trim())}`);
      const op = c[1] as VersionClause['op'];
      const version = c[2]!;
      if (version.endsWith('.*') && op !== '==' && op !== '!=') {
        throw bad(`${JSON.stringify(spec)}: a ".*" wildcard only goes with == or !=`);
      }
      if (op === '~=' && !/^\d+(?:\.\d+)+/.test(version.replace(/^\d+!/, ''))) {
        throw bad(`${JSON.stringify(spec)}: ~= needs at least two release numbers (~=1.4)`);
      }
      clauses.push({ op, version });
    }
  }
  return { spec, name, normalizedName: normalizePackageName(name), extras, clauses };
}
