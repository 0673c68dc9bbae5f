// The pure pieces of the tool bridge, against fakes: the JSON Schema subset, the registry (registration, scopes,
// local calls, zod), the nested-call scope and the picker's bypass for it, the LLM export, the config key.
import { toolSpecFromWire } from '../../src/protocol/messages.js';
import { testCall } from './test-call.js';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { resolveConfig } from '../../src/config/resolve-config.js';
import {
  ConfigError,
  InvalidArgumentsError,
  ToolRegistrationError,
  UnknownToolError,
} from '../../src/errors/errors.js';
import { toLlmTools } from '../../src/index.js';
import { Call, type CallRunner } from '../../src/call/call.js';
import { pickWorker, type PickableWorker } from '../../src/pool/picker.js';
import type { ToolSpec } from '../../src/protocol/messages.js';
import { compileSchema, type JsonSchema, SchemaError } from '../../src/tools/json-schema.js';
import { ToolRegistry } from '../../src/tools/tool-registry.js';
import {
  ancestorWorkers,
  DEADLINE_GRACE_MS,
  nestedCallOptions,
  runInScope,
} from '../../src/tools/tool-scope.js';

function check(schema: JsonSchema, value: unknown): string | null {
  return compileSchema(schema)(value, 'args');
}

describe('JSON Schema subset', () => {
  it.each<[JsonSchema, unknown, string | null]>([
    [{ type: 'integer' }, 3, null],
    [{ type: 'integer' }, 3.5, 'args: expected integer, got number 3.5'],
    [{ type: 'integer' }, 2n ** 70n, null],
    [{ type: 'number' }, '1', 'args: expected number, got string "1"'],
    [{ type: ['string', 'null'] }, null, null],
    [{ type: 'string', format: 'binary' }, Buffer.from('x'), null],
    [{ type: 'string', format: 'binary' }, 'x', 'args: expected bytes, got string "x"'],
    [{ type: 'string', format: 'date-time' }, new Date(0), null],
    [{ type: 'object' }, [], 'args: expected object, got array []'],
    [{ type: 'object' }, new Date(0), 'args: expected object, got date "1970-01-01T00:00:00.000Z"'],
    [{ enum: ['a', 1] }, 'b', 'args: expected one of "a", 1, got string "b"'],
    [{ const: { a: [1] } }, { a: [1] }, null],
    [{ type: 'string', minLength: 2, maxLength: 3 }, 'abcd', 'args: must have at most 3 characters, got 4'],
    [{ type: 'string', pattern: '^a' }, 'ba', 'args: must match /^a/, got string "ba"'],
    [{ type: 'number', exclusiveMaximum: 1 }, 1, 'args: must be < 1, got integer 1'],
    [{ type: 'number', multipleOf: 0.5 }, 1.25, 'args: must be a multiple of 0.5, got 1.25'],
    [{ type: 'array', items: { type: 'string' } }, ['a', 2], 'args[1]: expected string, got integer 2'],
    [
      { type: 'array', prefixItems: [{ type: 'integer' }, { type: 'string' }] },
      [1, 2],
      'args[1]: expected string, got integer 2',
    ],
    [{ type: 'array', minItems: 2 }, [1], 'args: expected at least 2 items, got 1'],
    [
      { type: 'array', uniqueItems: true },
      [{ a: 1 }, { a: 1 }],
      'args[1]: duplicates an earlier item (items must be unique)',
    ],
    [
      { type: 'object', properties: { 'odd key': { type: 'integer' } } },
      { 'odd key': 'x' },
      'args["odd key"]: expected integer, got string "x"',
    ],
    [{ type: 'object', required: ['a'] }, {}, 'args: missing required key "a"'],
    [
      { type: 'object', additionalProperties: false, properties: { a: {} } },
      { a: 1, b: 2 },
      'args.b: unexpected key',
    ],
    [
      { anyOf: [{ type: 'array', items: { type: 'integer' } }, { type: 'null' }] },
      ['x'],
      'args[0]: expected integer, got string "x"',
    ],
    [
      { oneOf: [{ type: 'number' }, { type: 'integer' }] },
      1,
      'args: matches 2 of the oneOf forms, exactly one is allowed',
    ],
    [{ allOf: [{ type: 'number' }, { minimum: 5 }] }, 4, 'args: must be >= 5, got integer 4'],
    [{ not: { type: 'string' } }, 's', 'args: matches a form that is not allowed'],
    [false, 1, 'args: no value is allowed here'],
    [true, 1, null],
    [{ title: 'only words', 'x-custom': 1 }, 'anything', null],
  ])('%j with %o', (schema, value, problem) => {
    expect(check(schema, value)).toBe(problem);
  });

  it('follows local $refs, recursive ones included', () => {
    const tree: JsonSchema = {
      $defs: {
        node: {
          type: 'object',
          properties: {
            value: { type: 'integer' },
            children: { type: 'array', items: { $ref: '#/$defs/node' } },
          },
          required: ['value'],
        },
      },
      $ref: '#/$defs/node',
    };
    expect(check(tree, { value: 1, children: [{ value: 2, children: [] }] })).toBeNull();
    expect(check(tree, { value: 1, children: [{ value: 2, children: [{ value: 'x' }] }] })).toBe(
      'args.children[0].children[0].value: expected integer, got string "x"',
    );
  });

  it('refuses schemas it cannot compile, naming the place', () => {
    expect(() => compileSchema({ type: 'text' as never })).toThrow(
      new SchemaError('#/type', 'unknown type "text"'),
    );
    expect(() => compileSchema({ properties: { a: { pattern: '(' } } })).toThrow(/#\/properties\/a\/pattern/);
    expect(() => compileSchema({ $ref: 'http://x' })).toThrow(/only local references/);
    expect(() => compileSchema({ anyOf: [] })).toThrow(/#\/anyOf: must be a non-empty array/);
    const dangling = compileSchema({ $ref: '#/$defs/missing' });
    expect(() => dangling(1, 'args')).toThrow(/points at nothing/);
  });
});

describe('ToolRegistry', () => {
  it('registers, lists, shadows per session, unregisters and clears sessions', () => {
    const tools = new ToolRegistry();
    const off = tools.register('a', () => 1, { description: 'global a' });
    tools.register('a', () => 2, { sessionId: 's1', description: 's1 a' });
    tools.register('b', () => 3, { sessionId: 's1' });
    expect(tools.list().map((t) => [t.name, t.sessionId])).toEqual([
      ['a', undefined],
      ['a', 's1'],
      ['b', 's1'],
    ]);
    expect(tools.list({ sessionId: 's1' }).map((t) => t.description)).toEqual(['s1 a', '']);
    expect(tools.list({ sessionId: 's2' }).map((t) => t.description)).toEqual(['global a']);
    expect(tools.get('b', { sessionId: 's2' })).toBeUndefined();
    expect(tools.get('a')!.parameters).toEqual({ type: 'object' });
    expect(off()).toBe(true);
    expect(off()).toBe(false);
    expect(tools.clearSession('s1')).toBe(2);
    expect(tools.list()).toEqual([]);
  });

  it('refuses bad registrations with ToolRegistrationError', () => {
    const tools = new ToolRegistry();
    tools.register('dup', () => 1);
    const bad: Array<[() => unknown, RegExp]> = [
      [() => tools.register('dup', () => 2), /already registered.*replace: true/],
      [() => tools.register('', () => 1), /the name must start/],
      [() => tools.register('has space', () => 1), /the name must start/],
      [() => tools.register('__snakepit__.x', () => 1), /reserved/],
      [() => tools.register('h', 42 as never), /handler must be a function/],
      [() => tools.register('s', () => 1, { sessionId: '' }), /sessionId must be a non-empty string/],
      [() => tools.register('t', () => 1, { parameters: { type: 'string' } as never }), /type "object"/],
      [
        () =>
          tools.register('u', () => 1, {
            parameters: { type: 'object', properties: { a: { type: 'nope' } } } as never,
          }),
        /properties\/a\/type/,
      ],
      [() => tools.register('v', () => 1, { parameters: z.string() as never }), /zod object schema/],
      [
        () => tools.register('w', () => 1, { parameters: { _def: {}, safeParse: () => ({}) } as never }),
        /zod 3/,
      ],
    ];
    for (const [register, message] of bad) {
      expect(register).toThrow(ToolRegistrationError);
      expect(register).toThrow(message);
    }
    tools.register('dup', () => 2, { replace: true });
  });

  it('call() checks arguments and runs the handler with a context; async iterables are collected', async () => {
    const tools = new ToolRegistry();
    tools.register('add', ({ a, b }) => Number(a) + Number(b), {
      parameters: {
        type: 'object',
        properties: { a: { type: 'number' }, b: { type: 'number' } },
        required: ['a', 'b'],
      },
    });
    tools.register('ctx', (_args, ctx) => [ctx.tool, ctx.sessionId, ctx.depth, ctx.remainingMs() <= 1000]);
    tools.register('gen', async function* () {
      yield 1;
      yield 2;
    });
    tools.register('typed', ({ n }) => n * 2, { parameters: z.object({ n: z.coerce.number() }) });
    expect(await tools.call('add', { a: 1, b: 2 })).toBe(3);
    await expect(tools.call('add', { a: 1 })).rejects.toThrow(InvalidArgumentsError);
    await expect(tools.call('add', { a: 1 })).rejects.toThrow('args: missing required key "b"');
    await expect(tools.call('nope')).rejects.toThrow(UnknownToolError);
    expect(await tools.call('ctx', {}, { sessionId: 's', timeoutMs: 1000 })).toEqual(['ctx', 's', 0, true]);
    expect(await tools.call('gen')).toEqual([1, 2]);
    expect(await tools.call('typed', { n: '21' })).toBe(42);
  });
});
function makeCall(
  init: { pool?: string; parent?: Call; depth?: number; timeoutMs?: number; signal?: AbortSignal } = {},
): Call {
  return testCall({
    pool: init.pool ?? 'p',
    timeoutMs: init.timeoutMs ?? 10_000,
    signal: init.signal,
    parent: init.parent,
    depth: init.depth,
  });
}

class FakeWorker implements PickableWorker, CallRunner {
  load = 1;
  pipelineBlockers = 0;
  constructor(
    readonly id: string,
    public state = 'ready',
  ) {}
  cancel(): void {}
  credit(): void {}
}

describe('nested calls', () => {
  it('ancestorWorkers: the workers of this pool running an ancestor that still waits', () => {
    const w1 = new FakeWorker('w1');
    const w2 = new FakeWorker('w2');
    const top = makeCall();
    top.markRunning(w1);
    const mid = makeCall({ parent: top });
    mid.markRunning(w2);
    const leaf = makeCall({ parent: mid });
    expect([...ancestorWorkers(leaf)!].sort()).toEqual(['w1', 'w2']);
    expect(ancestorWorkers(top)).toBeUndefined();
    expect(ancestorWorkers(makeCall({ parent: top, pool: 'other' }))).toBeUndefined();
    top.succeed(1);
    expect([...ancestorWorkers(leaf)!]).toEqual(['w2']);
  });

  it('pickWorker lets a nested call through to its ancestor’s busy worker, and only then', () => {
    const limits = { workerConcurrency: 1, pipelineDepth: 1 };
    const [w1, w2] = [new FakeWorker('w1'), new FakeWorker('w2')];
    const on = new Set(['w2']);
    expect(pickWorker(undefined, [w1, w2], limits)).toEqual({ kind: 'busy' });
    expect(pickWorker(undefined, [w1, w2], limits, on)).toEqual({ kind: 'worker', worker: w2 });
    const strict = { workerId: 'w2', strict: true };
    expect(pickWorker(strict, [w1, w2], limits, on)).toEqual({ kind: 'worker', worker: w2 });
    expect(pickWorker({ workerId: 'w1', strict: true }, [w1, w2], limits, on)).toEqual({
      kind: 'wait',
      worker: w1,
    });
    w1.load = 0;
    expect(pickWorker(undefined, [w1, w2], limits, on)).toEqual({ kind: 'worker', worker: w1 });
    expect(pickWorker(undefined, [w1, new FakeWorker('w2', 'stopping')], limits, on)).toEqual({
      kind: 'worker',
      worker: w1,
    });
  });

  it('nestedCallOptions: inside a scope the timeout is capped and the signal follows the parent', () => {
    const parent = makeCall();
    const controller = new AbortController();
    const outside = nestedCallOptions('run', 5000, undefined);
    expect(outside).toEqual({ timeoutMs: 5000, signal: undefined, parent: undefined, depth: 0 });
    const scope = {
      runId: 'run',
      parent,
      depth: 2,
      deadline: performance.now() + 300,
      signal: controller.signal,
    };
    const inside = runInScope(scope, () => nestedCallOptions('run', 5000, undefined));
    expect(inside.timeoutMs).toBeLessThanOrEqual(300 + DEADLINE_GRACE_MS);
    expect(inside.parent).toBe(parent);
    expect(inside.depth).toBe(2);
    expect(runInScope(scope, () => nestedCallOptions('other-run', 5000, undefined)).parent).toBeUndefined();
    const mine = new AbortController();
    const both = runInScope(scope, () => nestedCallOptions('run', 100, mine.signal));
    expect(both.timeoutMs).toBe(100);
    controller.abort(new Error('parent ended'));
    expect(both.signal!.aborted).toBe(true);
  });
});

describe('toLlmTools', () => {
  const specs: ToolSpec[] = [
    {
      name: 'python.math.sqrt',
      description: 'Square root',
      supportsStreaming: false,
      parameters: [{ name: 'x', kind: 'positional_or_keyword', required: true }],
      inputSchema: {
        type: 'object',
        properties: { x: { type: 'number' } },
        required: ['x'],
        additionalProperties: false,
      },
    },
    { name: 'count', description: 'Stream', supportsStreaming: true, parameters: [] },
    {
      name: 'old',
      description: 'From a worker without input_schema',
      supportsStreaming: false,
      parameters: [
        { name: 'a', kind: 'positional_or_keyword', required: true },
        { name: 'b', kind: 'keyword_only', required: false, default: 2 },
        { name: 'kw', kind: 'var_keyword', required: false },
      ],
    },
  ];

  it('exports generic, OpenAI and Anthropic shapes; renames; leaves streams out unless asked', () => {
    const rename = (n: string): string => n.replace(/\./g, '__');
    expect(toLlmTools(specs, { format: 'openai', rename })[0]).toEqual({
      type: 'function',
      function: {
        name: 'python__math__sqrt',
        description: 'Square root',
        parameters: {
          type: 'object',
          properties: { x: { type: 'number' } },
          required: ['x'],
          additionalProperties: false,
        },
      },
    });
    expect(toLlmTools(specs, { format: 'anthropic' }).map((t) => Object.keys(t))).toEqual([
      ['name', 'description', 'input_schema'],
      ['name', 'description', 'input_schema'],
    ]);
    expect(toLlmTools(specs).map((t) => t.name)).toEqual(['python.math.sqrt', 'old']);
    expect(toLlmTools(specs, { includeStreaming: true }).map((t) => t.name)).toEqual([
      'python.math.sqrt',
      'count',
      'old',
    ]);
    expect(toLlmTools(specs)[1]!.parameters).toEqual({
      type: 'object',
      properties: { a: {}, b: { default: 2 } },
      required: ['a'],
      additionalProperties: true,
    });
  });

  it('exports host tools too', () => {
    const tools = new ToolRegistry();
    tools.register('lookup', () => 1, {
      description: 'Find',
      parameters: { type: 'object', properties: { id: { type: 'integer' } } },
    });
    expect(toLlmTools(tools.list())).toEqual([
      {
        name: 'lookup',
        description: 'Find',
        parameters: { type: 'object', properties: { id: { type: 'integer' } } },
      },
    ]);
  });
});

describe('config tools.maxDepth', () => {
  const base = { adapter: 'm:C', python: { executable: process.execPath } };
  it('defaults to 8 and is checked', () => {
    expect(resolveConfig(base).tools).toEqual({ maxDepth: 8 });
    expect(resolveConfig({ ...base, tools: { maxDepth: 2 } }).tools).toEqual({ maxDepth: 2 });
    expect(() => resolveConfig({ ...base, tools: { maxDepth: 0 } })).toThrow(ConfigError);
    expect(() => resolveConfig({ ...base, tools: { depth: 2 } as never })).toThrow(/tools\.depth/);
  });
});

describe('toolSpecFromWire (a worker`s ready, camelCase for the host)', () => {
  it('renames the wire fields and keeps only well-typed known ones; drops entries without a string name', () => {
    const wire = [
      {
        name: 'add',
        description: 'Add',
        supports_streaming: false,
        is_async: true,
        signature: 'add(a, b)',
        parameters: [],
        input_schema: { type: 'object' },
        listed: true,
        extra: 'ignored',
      },
      {
        name: 'gen',
        supports_streaming: 'yes',
        description: 7,
        input_schema: 'not a schema',
        parameters: {},
      },
      null,
      42,
      { name: { toString: () => 'x' } },
      { description: 'no name' },
    ];
    expect(wire.flatMap(toolSpecFromWire)).toEqual([
      {
        name: 'add',
        description: 'Add',
        supportsStreaming: false,
        isAsync: true,
        signature: 'add(a, b)',
        parameters: [],
        inputSchema: { type: 'object' },
        listed: true,
      },
      { name: 'gen', description: '', supportsStreaming: false, parameters: [] },
    ]);
  });
});
