/**
 * What to do about an adapter that did not import or initialize: the `fix` of its WorkerStartError, judged from
 * the Python exception (its type and message arrive in the worker's `fatal` frame). The message is Python's
 * and may say anything; only its shape is read here, and what is quoted back is cut short.
 */
import { shortName } from '../util/short-name.js';

export interface StartFailure {
  /** `module:Class` as configured. */
  adapter: string;
  /** `import` or `initialize`. */
  phase: string | undefined;
  pythonType: string;
  message: string;
  /** The interpreter the workers run. */
  python: string;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;

export function startFailureFix(f: StartFailure): string {
  const colon = f.adapter.indexOf(':');
  const adapterModule = colon < 0 ? f.adapter : f.adapter.slice(0, colon);
  const className = colon < 0 ? '' : f.adapter.slice(colon + 1);
  if (f.phase === 'initialize') {
    return `the adapter's initialize() raised ${shortName(f.pythonType, 60)}: fix what the traceback points at`;
  }
  const missing = /^No module named '([^']{1,200})'/.exec(f.message)?.[1];
  if (f.pythonType === 'ModuleNotFoundError' && missing !== undefined) {
    if (adapterModule === missing || adapterModule.startsWith(`${missing}.`)) {
      return (
        `Python cannot find the adapter's module ${shortName(missing)}: put the folder that holds it on ` +
        `pythonPath (e.g. pythonPath: ['./python']), or check the spelling of ${shortName(adapterModule)}`
      );
    }
    const top = missing.split('.')[0]!;
    const example = IDENTIFIER.test(top) ? `, e.g. \`npx snakepit setup ${top}\` for ./.venv` : '';
    return (
      `the adapter imports ${shortName(missing)}, which the workers' Python (${f.python}) does not have: ` +
      `install it there${example} (a package's name on PyPI may differ from its module's)`
    );
  }
  if (f.pythonType === 'AttributeError' && className !== '' && f.message.includes(className)) {
    return `the module ${shortName(adapterModule)} has no class ${shortName(className)}: check the name after ":" in adapter`;
  }
  if (f.pythonType === 'SyntaxError' || f.pythonType === 'IndentationError') {
    return 'fix the syntax error at the file and line the traceback names';
  }
  return 'the adapter raised while it was imported: fix what the traceback points at (`npx snakepit doctor` checks it)';
}
