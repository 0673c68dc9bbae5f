// Attack 1 and its variants: from an object reference to eval. A pool that exposes only a few functions; the
// caller takes results as references and walks names (dunders, frame internals, evaluating methods, attributes
// that hold modules or process-running functions) towards code execution. Every step must be refused with an
// InvalidArgumentsError naming the name policy, on the host (callMethod/getAttr) and in the worker (the
// reserved tools called directly), and the marker the attack would write must never appear.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentsError, PyRef, Snakepit, UnknownToolError } from '../../src/index.js';
import { grpcInstalled } from '../grpc-helpers.js';
import { FIXTURES_PYTHONPATH, requireOptional, start } from '../helpers.js';
import { marker, refusal } from './security-helpers.js';

const SESSION = 'attacker';

describe('attack: object reference to eval', () => {
  let pit: Snakepit;
  let holder: PyRef;
  const pwned = marker('ref');
  const touch = `open(${JSON.stringify(pwned.path)}, 'w').write('pwned')`;
  beforeAll(async () => {
    pit = await start({
      adapter: undefined,
      libraries: [
        { name: 'math', module: 'math', functions: ['sqrt'] },
        {
          name: 'atk',
          module: 'snakepit_fixtures.attack_surface',
          functions: ['holder', 'completed'],
        },
      ],
    });
    holder = await pit.executeInSession<PyRef>(SESSION, 'python.atk.holder', { _return: 'ref' });
  });
  afterAll(async () => {
    await pit?.close();
    pwned.remove();
  });

  /** The reserved tools called directly, as a client that skips the host's own checks would. */
  const direct = (tool: 'call_method' | 'get_attr', args: Record<string, unknown>): Promise<unknown> =>
    pit.executeInSession(SESSION, `__snakepit__.${tool}`, args);

  const refused = async (promise: Promise<unknown>, pattern: RegExp = /name policy/): Promise<void> => {
    const err = await refusal(promise);
    expect(err).toBeInstanceOf(InvalidArgumentsError);
    expect(err.message).toMatch(pattern);
  };

  it('the __reduce_ex__ → __builtins__ → eval chain is refused at its first step', async () => {
    const root = await pit.executeInSession<PyRef>(SESSION, 'python.math.sqrt', {
      _args: [16],
      _return: 'ref',
    });
    expect(root).toBeInstanceOf(PyRef);
    const attack = async (call: (ref: PyRef, name: string, args?: unknown[]) => Promise<unknown>) => {
      const reduced = (await call(root, '__reduce_ex__', [2])) as unknown[];
      const newobj = reduced[0] as PyRef;
      const builtins = (await pit.getAttr(newobj, '__builtins__')) as Record<string, PyRef>;
      return pit.callMethod(builtins['eval']!, '__call__', [
        `__import__('os').system('touch ${pwned.path}')`,
      ]);
    };
    await refused(attack((ref, name, args) => pit.callMethod(ref, name, args ?? [])));
    await refused(attack((ref, name, args) => direct('call_method', { ref, method: name, args })));
    expect(pwned.exists()).toBe(false);
  });

  it.each([
    ['__class__'],
    ['__globals__'],
    ['__subclasses__'],
    ['__builtins__'],
    ['__dict__'],
    ['__init__'],
    ['_steps'],
  ])('getAttr and callMethod of %s are refused, on the host and in the worker', async (name) => {
    await refused(pit.getAttr(holder, name));
    await refused(pit.callMethod(holder, name));
    await refused(direct('get_attr', { ref: holder, name }));
    await refused(direct('call_method', { ref: holder, method: name }));
  });

  it('__call__ on a reference to a builtin is refused', async () => {
    const root = await pit.executeInSession<PyRef>(SESSION, 'python.math.sqrt', {
      _args: [4],
      _return: 'ref',
    });
    await refused(pit.callMethod(root, '__call__', []));
    await refused(direct('call_method', { ref: root, method: '__call__', args: [] }));
  });

  it('a generator’s gi_frame, and f_globals behind it, are refused by name', async () => {
    const [steps] = await pit.getAttr<PyRef[]>(holder, 'steps');
    expect(steps).toBeInstanceOf(PyRef);
    for (const name of ['gi_frame', 'gi_code', 'f_globals', 'tb_frame']) {
      await refused(direct('get_attr', { ref: steps, name }), /frames, code or globals/);
    }
  });

  it('attributes that hold a module, os.system, eval under another name, or pickle.loads are refused', async () => {
    await refused(pit.getAttr(holder, 'module'), /module/);
    await refused(pit.getAttr(holder, 'system'), /runs processes or code/);
    await refused(pit.callMethod(holder, 'system', [`touch ${pwned.path}`]), /runs processes or code/);
    await refused(pit.getAttr(holder, 'evaluate_fn'), /builtin 'eval'/);
    await refused(pit.callMethod(holder, 'evaluate_fn', [touch]), /builtin 'eval'/);
    await refused(pit.getAttr(holder, 'loads'), /runs processes or code/);
    expect(pwned.exists()).toBe(false);
  });

  it('methods that evaluate their argument (eval, query, format, ...) are refused on references', async () => {
    await refused(direct('call_method', { ref: holder, method: 'eval', args: [touch] }), /evaluates/);
    await refused(
      direct('call_method', { ref: holder, method: 'format', args: ['{0.__init__.__globals__}'] }),
      /evaluates/,
    );
    await refused(direct('get_attr', { ref: holder, name: 'eval' }), /evaluates/);
    expect(pwned.exists()).toBe(false);
  });

  it('a result that holds a process-running function is refused, not handed out as a reference', async () => {
    await refused(pit.callMethod(holder, 'toolbox'), /subprocess/);
  });

  it('an object whose type belongs to a process-running module exposes nothing', async () => {
    const done = await pit.executeInSession<PyRef>(SESSION, 'python.atk.completed', { _return: 'ref' });
    await refused(pit.getAttr(done, 'returncode'), /subprocess/);
    await refused(pit.callMethod(done, 'check_returncode'), /subprocess/);
  });

  it('names that are not one identifier, or are megabytes long, are refused without echoing them', async () => {
    await refused(pit.getAttr(holder, 'value.real'), /one identifier/);
    await refused(direct('get_attr', { ref: holder, name: 'value.real' }), /one identifier/);
    const huge = 'a'.repeat(10 * 1024 * 1024);
    for (const attempt of [pit.getAttr(holder, huge), direct('get_attr', { ref: holder, name: huge })]) {
      const err = await refusal(attempt);
      expect(err).toBeInstanceOf(InvalidArgumentsError);
      expect(err.message.length).toBeLessThan(1_000);
    }
  });

  it('public methods and attributes still work, and the worker serves on', async () => {
    expect(await pit.callMethod(holder, 'double', [21])).toBe(42);
    expect(await pit.getAttr(holder, 'value')).toBe(42);
    expect(await pit.execute('python.math.sqrt', { _args: [9] })).toBe(3);
  });
});

describe.runIf(requireOptional(grpcInstalled(), 'grpcio and protobuf (Snakepit-style workers)'))(
  'the name policy through a Snakepit-style worker (ExecuteTool)',
  () => {
    let pit: Snakepit;
    beforeAll(async () => {
      pit = await Snakepit.start({
        transport: 'snakepit',
        size: 1,
        logger: false,
        pythonPath: [FIXTURES_PYTHONPATH],
        libraries: [{ name: 'math', module: 'math', functions: ['sqrt'] }],
      });
    });
    afterAll(() => pit?.close());

    it('refuses private paths and policy names exactly as the local worker does', async () => {
      expect(await pit.execute('python.math.sqrt', { _args: [9] })).toBe(3);
      for (const tool of ['python.math.__loader__', 'python.math.sqrt.__globals__', 'python.math._private']) {
        expect(await refusal(pit.execute(tool))).toBeInstanceOf(UnknownToolError);
      }
      const forged = { id: 'r1', session: 's', type: 'function' };
      for (const name of ['__class__', 'gi_frame', 'eval']) {
        const err = await refusal(pit.execute('__snakepit__.get_attr', { ref: forged, name }));
        expect(err).toBeInstanceOf(InvalidArgumentsError);
        expect(err.message).toMatch(/name policy/);
      }
    });
  },
);
