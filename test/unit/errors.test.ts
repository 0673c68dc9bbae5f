// Table-driven check of every error class: name, code, instanceof through the brand, and the base class.
import { startFailureFix } from '../../src/worker/start-fix.js';
import { describe, expect, it } from 'vitest';
import * as api from '../../src/index.js';
import { pythonErrorFrom } from '../../src/errors/python-errors.js';

const cases: Array<[string, () => api.SnakepitError, string]> = [
  ['ConfigError', () => new api.ConfigError('pools[0].size', 'must be positive'), 'SNAKEPIT_CONFIG'],
  ['PythonEnvError', () => new api.PythonEnvError('no python', 'install it'), 'SNAKEPIT_PYTHON_ENV'],
  [
    'WorkerStartError',
    () => new api.WorkerStartError('boom', { pool: 'p', workerId: 'p-1' }),
    'SNAKEPIT_WORKER_START',
  ],
  ['PoolSaturatedError', () => new api.PoolSaturatedError('p', 10), 'SNAKEPIT_POOL_SATURATED'],
  ['QueueTimeoutError', () => new api.QueueTimeoutError('p', 5), 'SNAKEPIT_QUEUE_TIMEOUT'],
  ['CallTimeoutError', () => new api.CallTimeoutError('t', 5), 'SNAKEPIT_CALL_TIMEOUT'],
  ['AbortError', () => new api.AbortError(), 'SNAKEPIT_ABORTED'],
  [
    'WorkerCrashedError',
    () => new api.WorkerCrashedError('dead', { pool: 'p', workerId: 'p-1' }),
    'SNAKEPIT_WORKER_CRASHED',
  ],
  ['UnknownToolError', () => new api.UnknownToolError('x', ['a']), 'SNAKEPIT_UNKNOWN_TOOL'],
  [
    'InvalidArgumentsError',
    () => new api.InvalidArgumentsError('t', 't(a)', 'missing a'),
    'SNAKEPIT_INVALID_ARGUMENTS',
  ],
  ['SessionLostError', () => new api.SessionLostError('s1'), 'SNAKEPIT_SESSION_LOST'],
  ['SerializationError', () => new api.SerializationError('args.x', 'function'), 'SNAKEPIT_SERIALIZATION'],
  ['PayloadTooLargeError', () => new api.PayloadTooLargeError(10, 5), 'SNAKEPIT_PAYLOAD_TOO_LARGE'],
  ['ProtocolError', () => new api.ProtocolError('bad frame'), 'SNAKEPIT_PROTOCOL'],
  ['PoolClosedError', () => new api.PoolClosedError(), 'SNAKEPIT_POOL_CLOSED'],
  [
    'ToolRegistrationError',
    () => new api.ToolRegistrationError('t', 'bad name'),
    'SNAKEPIT_TOOL_REGISTRATION',
  ],
  ['NestingDepthError', () => new api.NestingDepthError('t', 8), 'SNAKEPIT_NESTING_DEPTH'],
];

describe('error classes', () => {
  it.each(cases)('%s has its name, code and brand', (name, make, code) => {
    const err = make();
    expect(err.name).toBe(name);
    expect(err.code).toBe(code);
    expect(err).toBeInstanceOf(Error);
    expect(err).toBeInstanceOf(api.SnakepitError);
    expect(err).toBeInstanceOf((api as unknown as Record<string, new (...a: never[]) => unknown>)[name]!);
    expect(err.message.length).toBeGreaterThan(0);
  });

  it('instanceof holds across copies of the class (brand, not identity)', () => {
    // A second copy of the package would define an unrelated class with the same name and brand.
    class CallTimeoutError extends api.SnakepitError {}
    const foreign = new CallTimeoutError('from another copy');
    expect(foreign).toBeInstanceOf(api.CallTimeoutError);
    expect(new api.QueueTimeoutError('p', 1)).not.toBeInstanceOf(api.CallTimeoutError);
  });

  it('messages name the key and the fix', () => {
    expect(new api.ConfigError('pools[1].size', 'must be an integer').message).toContain('pools[1].size');
    expect(new api.PythonEnvError('missing', 'run npx snakepit setup').message).toContain(
      'fix: run npx snakepit setup',
    );
    expect(new api.UnknownToolError('nope', ['add', 'echo']).message).toContain('add, echo');
    expect(new api.InvalidArgumentsError('add', 'add(a, b)', 'missing b').message).toContain(
      'expected add(a, b)',
    );
  });
});

describe('Python exception translation', () => {
  const builtins: Array<[string, unknown]> = [
    ['ValueError', api.PythonValueError],
    ['KeyError', api.PythonKeyError],
    ['TypeError', api.PythonTypeError],
    ['IndexError', api.PythonIndexError],
    ['AttributeError', api.PythonAttributeError],
    ['ImportError', api.PythonImportError],
    ['ModuleNotFoundError', api.PythonModuleNotFoundError],
    ['RuntimeError', api.PythonRuntimeError],
    ['NotImplementedError', api.PythonNotImplementedError],
    ['FileNotFoundError', api.PythonFileNotFoundError],
    ['PermissionError', api.PythonPermissionError],
    ['ZeroDivisionError', api.PythonZeroDivisionError],
    ['TimeoutError', api.PythonTimeoutError],
    ['MemoryError', api.PythonMemoryError],
  ];
  it.each(builtins)('%s maps to its subclass', (pythonType, ctor) => {
    const err = pythonErrorFrom({ pythonType, message: 'm', traceback: 'tb' });
    expect(err).toBeInstanceOf(ctor as new () => unknown);
    expect(err).toBeInstanceOf(api.PythonError);
    expect(err.pythonType).toBe(pythonType);
    expect(err.code).toMatch(/^SNAKEPIT_PYTHON_/);
  });

  it('a custom exception maps through its mro', () => {
    const err = pythonErrorFrom({
      pythonType: 'BadInput',
      message: 'no',
      traceback: '',
      mro: ['BadInput', 'ValueError', 'Exception'],
    });
    expect(err).toBeInstanceOf(api.PythonValueError);
    expect(err.pythonType).toBe('BadInput');
    expect(err.message).toBe('BadInput: no');
  });

  it('an unknown exception is a plain PythonError', () => {
    const err = pythonErrorFrom({ pythonType: 'Weird', message: 'x', traceback: '' });
    expect(err.constructor).toBe(api.PythonError);
    expect(err.code).toBe('SNAKEPIT_PYTHON');
  });
});

describe('startFailureFix (the fix of a WorkerStartError)', () => {
  const base = { adapter: 'my_tools:Tools', phase: 'import', python: '/venv/bin/python' };
  it('names a missing dependency with the setup command, and never echoes a hostile name into a command', () => {
    expect(
      startFailureFix({
        ...base,
        pythonType: 'ModuleNotFoundError',
        message: "No module named 'sklearn.svm'",
      }),
    ).toBe(
      'the adapter imports "sklearn.svm", which the workers\' Python (/venv/bin/python) does not have: install it ' +
        "there, e.g. `npx snakepit setup sklearn` for ./.venv (a package's name on PyPI may differ from its module's)",
    );
    const hostile = startFailureFix({
      ...base,
      pythonType: 'ModuleNotFoundError',
      message: `No module named '$(touch /tmp/x)${'a'.repeat(150)}'`,
    });
    expect(hostile).not.toContain('npx snakepit setup');
    expect(hostile).toContain('... (165 characters)');
  });

  it('tells the adapter module itself missing, a missing class, a syntax error and other failures apart', () => {
    expect(
      startFailureFix({ ...base, pythonType: 'ModuleNotFoundError', message: "No module named 'my_tools'" }),
    ).toMatch(
      /^Python cannot find the adapter's module "my_tools": put the folder that holds it on pythonPath/,
    );
    expect(
      startFailureFix({
        ...base,
        pythonType: 'AttributeError',
        message: "module 'my_tools' has no attribute 'Tools'",
      }),
    ).toBe('the module "my_tools" has no class "Tools": check the name after ":" in adapter');
    expect(startFailureFix({ ...base, pythonType: 'SyntaxError', message: 'invalid syntax' })).toMatch(
      /syntax error/,
    );
    expect(startFailureFix({ ...base, phase: 'initialize', pythonType: 'OSError', message: 'x' })).toBe(
      'the adapter\'s initialize() raised "OSError": fix what the traceback points at',
    );
    expect(startFailureFix({ ...base, pythonType: 'RuntimeError', message: 'boom' })).toMatch(
      /snakepit doctor/,
    );
  });
});
