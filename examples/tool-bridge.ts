/**
 * The tool bridge: host functions Python calls in the middle of a tool, and Python tools described for routing or
 * for an LLM. Run it with `npm run build && node dist/examples/tool-bridge.js`. See docs/TOOL_BRIDGE.md.
 *
 * The showcase adapter's `call_host(tool, args)` stands for your Python code: it runs
 * `self.session_context.call_host_tool(tool, **args)`.
 */
import { InvalidArgumentsError, PythonError, Snakepit, toLlmTools } from 'snakepit';
import { z } from 'zod';

const ADAPTER = 'snakepit_bridge.adapters.showcase:ShowcaseAdapter';
const users = new Map([[7, { id: 7, name: 'Ada', avatar: Buffer.from([0x89, 0x50, 0x4e, 0x47]) }]]);

await Snakepit.runAsScript({ adapter: ADAPTER, size: 2, logLevel: 'warn' }, async (pit) => {
  // 1. Host tools, with their parameters as JSON Schema or zod; arguments are checked before a handler runs.
  pit.tools.register('lookupUser', ({ id }) => users.get(Number(id)) ?? null, {
    description: 'Find a user by id',
    parameters: { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] },
  });
  pit.tools.register(
    'convert',
    async ({ amount, to }) => {
      await new Promise((r) => setTimeout(r, 10)); // an async handler: a database, an HTTP API…
      return { amount: amount * (to === 'EUR' ? 0.9 : 1.1), currency: to };
    },
    {
      description: 'Convert money',
      parameters: z.object({ amount: z.number(), to: z.enum(['EUR', 'USD']) }),
    },
  );
  const user = await pit.execute<{ name: string; avatar: Buffer }>('call_host', {
    tool: 'lookupUser',
    args: { id: 7 },
  });
  console.log(`lookupUser from Python → ${user.name}, avatar ${user.avatar.length} bytes`);
  console.log(
    'convert from Python →',
    await pit.execute('call_host', { tool: 'convert', args: { amount: 10, to: 'EUR' } }),
  );

  // 2. Errors cross back: a throwing handler, bad arguments and an unknown name are Python exceptions
  //    (HostToolError, a RuntimeError), which the Python tool may catch; here it does not, so we get a PythonError.
  pit.tools.register('fragile', () => {
    throw new RangeError('the value is out of range');
  });
  for (const [tool, args] of [
    ['fragile', {}],
    ['convert', { amount: 'ten', to: 'EUR' }],
    ['missing', {}],
  ] as const) {
    const err = await pit.execute('call_host', { tool, args }).catch((e: unknown) => e);
    console.log(`${tool} → ${(err as PythonError).pythonType}: ${(err as Error).message.split('\n')[0]}`);
  }

  // 3. Nested: a host tool may call Python again (here the `stats` tool). Even with every worker busy with an
  //    outer call, the inner call runs (on the worker its caller holds), within the outer call's deadline.
  pit.tools.register('summarise', ({ values }) => pit.execute('stats', { values }));
  const summaries = await Promise.all(
    [1, 2, 3, 4].map((k) =>
      pit.execute<{ mean: number }>('call_host', { tool: 'summarise', args: { values: [k, k * 3] } }),
    ),
  );
  console.log('nested Python → TS → Python, 4 at once → means', summaries.map((s) => s.mean).join(', '));

  // 4. Session tools: visible only to calls in that session, dropped when it ends.
  pit.tools.register('whoAmI', (_args, ctx) => `session ${ctx.sessionId}`, { sessionId: 'tenant-a' });
  console.log('tenant-a →', await pit.executeInSession('tenant-a', 'call_host', { tool: 'whoAmI' }));
  const hidden = await pit
    .executeInSession('tenant-b', 'call_host', { tool: 'whoAmI' })
    .catch((e: Error) => e);
  console.log('tenant-b →', (hidden as PythonError).pythonType);

  // 5. Discovery: Python's tools with JSON Schema from their type hints, and the shape LLM APIs take.
  const add = pit.describe().find((t) => t.name === 'add')!;
  console.log('add inputSchema:', JSON.stringify(add.inputSchema));
  const llm = toLlmTools(pit.describe(), { format: 'openai' });
  console.log(
    `${llm.length} tools for an LLM, e.g.`,
    JSON.stringify(llm.find((t) => t.function.name === 'add')),
  );
  console.log(
    'host tools for an LLM:',
    toLlmTools(pit.tools.list())
      .map((t) => t.name)
      .join(', '),
  );

  // 6. Python checks argument values against the hints before a tool runs.
  const bad = await pit.execute('add', { a: 'one', b: 2 }).catch((e: unknown) => e);
  console.log('add(a="one") →', bad instanceof InvalidArgumentsError ? bad.problem : bad);
});
