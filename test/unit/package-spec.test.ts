// The requirement grammar PythonPackages and python.packages accept: strict, so nothing odd reaches pip.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors/errors.js';
import { checkRequirementSpec, normalizePackageName } from '../../src/python-env/package-spec.js';
import { parsePyprojectDependencies } from '../../src/python-env/pyproject.js';
import { explainInstallFailure } from '../../src/python-env/install.js';
import { PythonEnvError } from '../../src/errors/errors.js';

describe('checkRequirementSpec', () => {
  it.each([
    ['numpy', 'numpy', [], []],
    ['numpy>=1.26', 'numpy', [], [{ op: '>=', version: '1.26' }]],
    [
      'scikit-learn ~= 1.4, != 1.4.1',
      'scikit-learn',
      [],
      [
        { op: '~=', version: '1.4' },
        { op: '!=', version: '1.4.1' },
      ],
    ],
    [
      'pandas[excel,performance]==2.2.*',
      'pandas',
      ['excel', 'performance'],
      [{ op: '==', version: '2.2.*' }],
    ],
    ['zope.interface<7', 'zope.interface', [], [{ op: '<', version: '7' }]],
    ['torch===2.1.0+cpu', 'torch', [], [{ op: '===', version: '2.1.0+cpu' }]],
  ])('accepts %s', (spec, name, extras, clauses) => {
    const parsed = checkRequirementSpec(spec, 'specs[0]');
    expect(parsed).toMatchObject({ spec, name, extras, clauses });
  });

  it.each([
    ['', 'must be 1-200 characters'],
    ['-e .', 'does not start with a valid package name'],
    ['--index-url=http://evil', 'does not start with a valid package name'],
    ['numpy; rm -rf /', 'malformed version clause'],
    ['numpy && curl x', 'malformed version clause'],
    ['numpy $(id)', 'malformed version clause'],
    ['git+https://example.com/x.git', 'malformed version clause'],
    ['./local/path', 'does not start with a valid package name'],
    ["numpy; python_version<'3.10'", 'malformed version clause'],
    ['numpy>=1.*', 'only goes with == or !='],
    ['numpy~=1', 'two release numbers'],
    ['pandas[ex cel]', 'malformed [extras]'],
    ['a'.repeat(201), 'must be 1-200 characters'],
  ])('refuses %j', (spec, why) => {
    let caught: unknown;
    try {
      checkRequirementSpec(spec, 'specs[3]');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).key).toBe('specs[3]');
    expect((caught as Error).message).toContain(why);
  });

  it('refuses non-strings', () => {
    expect(() => checkRequirementSpec(42, 'k')).toThrow(/must be a string/);
  });

  it('normalises names as PEP 503 does', () => {
    expect(normalizePackageName('Scikit_Learn')).toBe('scikit-learn');
    expect(normalizePackageName('zope..Interface')).toBe('zope-interface');
  });
});

describe('parsePyprojectDependencies', () => {
  it('reads [project].dependencies over several lines, with comments and both quote styles', () => {
    const text = [
      '[build-system]',
      'requires = ["setuptools"]',
      'dependencies = ["not-this"]',
      '',
      '[project]',
      'name = "demo"  # a comment',
      'dependencies = [',
      '  "numpy>=1.26",   # arrays',
      "  'pandas[excel]', # tables",
      '  "six ; python_version < \\"3.13\\"",',
      ']',
      '',
      '[project.optional-dependencies]',
      'dev = ["pytest"]',
    ].join('\n');
    expect(parsePyprojectDependencies(text)).toEqual([
      'numpy>=1.26',
      'pandas[excel]',
      'six ; python_version < "3.13"',
    ]);
  });

  it('is empty without a [project] table or dependencies', () => {
    expect(parsePyprojectDependencies('[tool.ruff]\nline-length = 100\n')).toEqual([]);
    expect(parsePyprojectDependencies('[project]\nname = "x"\n')).toEqual([]);
    expect(parsePyprojectDependencies('[project]\ndependencies = []\n')).toEqual([]);
  });

  it('names the file when the array cannot be read', () => {
    expect(() =>
      parsePyprojectDependencies('[project]\ndependencies = [\n "a",\n', 'x/pyproject.toml'),
    ).toThrow(PythonEnvError);
    expect(() =>
      parsePyprojectDependencies('[project]\ndependencies = "numpy"\n', 'x/pyproject.toml'),
    ).toThrow(/x\/pyproject.toml: cannot read \[project\].dependencies: dependencies is not an array/);
  });
});

describe('explainInstallFailure', () => {
  const py = '/p/.venv/bin/python';
  it.each([
    ['/p/.venv/bin/python: No module named pip', 'has no pip'],
    ['error: externally-managed-environment', 'PEP 668'],
    [
      'WARNING: Retrying ... Failed to establish a new connection: [Errno 111] Connection refused',
      'cannot reach a package index',
    ],
    [
      'Looking in indexes: http://127.0.0.1:9/simple\nWARNING: Retrying ... NewConnectionError\nERROR: Could not find a version that satisfies the requirement x (from versions: none)',
      'cannot reach a package index (http://127.0.0.1:9/simple)',
    ],
    // A reachable index without the name: not a network problem.
    [
      'Looking in links: /opt/wheels\nERROR: Could not find a version that satisfies the requirement nosuch (from versions: none)',
      'no package named nosuch',
    ],
    [
      'ERROR: Could not find a version that satisfies the requirement x<0 (from versions: 1.0, 2.0)',
      'the index has 1.0, 2.0',
    ],
    // A mirror beside an unreachable PyPI: pip warns about the network, yet it listed versions, so the version is wrong.
    [
      'WARNING: Retrying ... Failed to establish a new connection\nERROR: Could not find a version that satisfies the requirement msgpack==99.0 (from versions: 1.1.2, 1.2.3)',
      'no version of msgpack==99.0 matches; the index has 1.1.2, 1.2.3',
    ],
    ['ERROR: Could not install packages due to an OSError: [Errno 13] Permission denied', 'no permission'],
  ])('%s', (output, fix) => {
    expect(explainInstallFailure(output, py, 'pip')).toContain(fix);
  });
});
