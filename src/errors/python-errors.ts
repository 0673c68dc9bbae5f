/**
 * Python exceptions, translated. A tool's exception crosses the channel as data (ErrorInfo: type, mro, message,
 * traceback) and becomes a `PythonError` subclass here, at the API boundary, so the JS stack points at the caller.
 */
import { SnakepitError } from './errors.js';

export interface PythonErrorInit {
  pythonType: string;
  message: string;
  traceback: string;
  module?: string | undefined;
  mro?: string[] | undefined;
  workerId?: string | undefined;
  tool?: string | undefined;
}

/** A Python exception raised by a tool. `pythonType` is the class name; `traceback` is Python's own. */
export class PythonError extends SnakepitError {
  static override readonly code: string = 'SNAKEPIT_PYTHON';
  readonly pythonType: string;
  readonly pythonMessage: string;
  readonly traceback: string;
  readonly module: string | undefined;
  readonly mro: string[];
  readonly workerId: string | undefined;
  readonly tool: string | undefined;

  constructor(init: PythonErrorInit) {
    super(`${init.pythonType}: ${init.message}`);
    this.pythonType = init.pythonType;
    this.pythonMessage = init.message;
    this.traceback = init.traceback;
    this.module = init.module;
    this.mro = init.mro ?? [init.pythonType];
    this.workerId = init.workerId;
    this.tool = init.tool;
  }
}

/* One subclass per common built-in. Names carry a `Python` prefix because `TypeError` and `RangeError` are JS
 * globals. A Python subclass of a built-in (class BadInput(ValueError)) maps through its mro. */
export class PythonValueError extends PythonError {
  static override readonly code: string = 'SNAKEPIT_PYTHON_VALUE_ERROR';
}
export class PythonKeyError extends PythonError {
  static override readonly code: string = 'SNAKEPIT_PYTHON_KEY_ERROR';
}
export class PythonTypeError extends PythonError {
  static override readonly code: string = 'SNAKEPIT_PYTHON_TYPE_ERROR';
}
export class PythonIndexError extends PythonError {
  static override readonly code: string = 'SNAKEPIT_PYTHON_INDEX_ERROR';
}
export class PythonAttributeError extends PythonError {
  static override readonly code: string = 'SNAKEPIT_PYTHON_ATTRIBUTE_ERROR';
}
export class PythonImportError extends PythonError {
  static override readonly code: string = 'SNAKEPIT_PYTHON_IMPORT_ERROR';
}
export class PythonModuleNotFoundError extends PythonImportError {
  static override readonly code: string = 'SNAKEPIT_PYTHON_MODULE_NOT_FOUND_ERROR';
}
export class PythonRuntimeError extends PythonError {
  static override readonly code: string = 'SNAKEPIT_PYTHON_RUNTIME_ERROR';
}
export class PythonNotImplementedError extends PythonRuntimeError {
  static override readonly code: string = 'SNAKEPIT_PYTHON_NOT_IMPLEMENTED_ERROR';
}
export class PythonFileNotFoundError extends PythonError {
  static override readonly code: string = 'SNAKEPIT_PYTHON_FILE_NOT_FOUND_ERROR';
}
export class PythonPermissionError extends PythonError {
  static override readonly code: string = 'SNAKEPIT_PYTHON_PERMISSION_ERROR';
}
export class PythonZeroDivisionError extends PythonError {
  static override readonly code: string = 'SNAKEPIT_PYTHON_ZERO_DIVISION_ERROR';
}
export class PythonTimeoutError extends PythonError {
  static override readonly code: string = 'SNAKEPIT_PYTHON_TIMEOUT_ERROR';
}
/** An allocation failed: under `limits.memoryMb`, the call that crossed the limit (the worker lives on). */
export class PythonMemoryError extends PythonError {
  static override readonly code: string = 'SNAKEPIT_PYTHON_MEMORY_ERROR';
}

const BY_PYTHON_TYPE: ReadonlyMap<string, new (init: PythonErrorInit) => PythonError> = new Map<
  string,
  new (init: PythonErrorInit) => PythonError
>([
  ['ValueError', PythonValueError],
  ['KeyError', PythonKeyError],
  ['TypeError', PythonTypeError],
  ['IndexError', PythonIndexError],
  ['AttributeError', PythonAttributeError],
  ['ImportError', PythonImportError],
  ['ModuleNotFoundError', PythonModuleNotFoundError],
  ['RuntimeError', PythonRuntimeError],
  ['NotImplementedError', PythonNotImplementedError],
  ['FileNotFoundError', PythonFileNotFoundError],
  ['PermissionError', PythonPermissionError],
  ['ZeroDivisionError', PythonZeroDivisionError],
  ['TimeoutError', PythonTimeoutError],
  ['MemoryError', PythonMemoryError],
]);

/** Build the most specific `PythonError` subclass for an exception, by its type and then its mro. */
export function pythonErrorFrom(init: PythonErrorInit): PythonError {
  const chain = init.mro && init.mro.length > 0 ? init.mro : [init.pythonType];
  for (const name of chain) {
    const ctor = BY_PYTHON_TYPE.get(name);
    if (ctor) return new ctor(init);
  }
  return new PythonError(init);
}
