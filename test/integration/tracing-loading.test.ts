/**
 * When `@opentelemetry/api` is loaded (src/telemetry/tracing.ts): with `telemetry.tracing: "auto"` (the default)
 * and nothing registered with it, not by `Snakepit.start` — its import is ~15 ms of host CPU while the first
 * worker starts — but by the first call made once a provider is registered, which is then traced as before.
 * Observed in a fresh Node process through `require.cache` (the API is CommonJS, imported or required).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { nodeJsonLines } from '../helpers.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Stage {
  stage: string;
  apiLoaded: boolean;
  spans?: string[];
}

function stages(script: string): Promise<Stage[]> {
  const dist = join(REPO, 'dist', 'src', 'index.js');
  if (!existsSync(dist)) throw new Error('dist is not built: run `npm run build` (npm test does)');
  const prelude = `
    import { Snakepit } from ${JSON.stringify(dist)};
    import { createRequire } from 'node:module';
    const require = createRequire(${JSON.stringify(join(REPO, 'package.json'))});
    const stage = (name, extra = {}) => console.log(JSON.stringify({
      stage: name,
      apiLoaded: Object.keys(require.cache).some((p) => p.includes('/@opentelemetry/api/')),
      ...extra,
    }));
    const options = { adapter: 'snakepit_bridge.adapters.showcase:ShowcaseAdapter', size: 1, logger: false };
  `;
  return nodeJsonLines<Stage>(['--input-type=module', '-e', `${prelude}\n${script}`]);
}

describe('loading @opentelemetry/api', () => {
  it('waits for a registered provider, then traces the next call', { timeout: 60_000 }, async () => {
    const seen = await stages(`
      const pit = await Snakepit.start(options);
      await pit.execute('add', { a: 1, b: 2 });
      stage('started, one call');
      const { trace } = require('@opentelemetry/api');
      const sdk = require('@opentelemetry/sdk-trace-base');
      const exporter = new sdk.InMemorySpanExporter();
      trace.setGlobalTracerProvider(
        new sdk.BasicTracerProvider({ spanProcessors: [new sdk.SimpleSpanProcessor(exporter)] }));
      await pit.execute('add', { a: 1, b: 2 });
      stage('a provider, one call', { spans: exporter.getFinishedSpans().map((s) => s.name) });
      await pit.close();
    `);
    expect(seen).toEqual([
      { stage: 'started, one call', apiLoaded: false },
      { stage: 'a provider, one call', apiLoaded: true, spans: ['default/add'] },
    ]);
  });

  it(
    'loads it at start with tracing: true, or when a provider is registered already',
    { timeout: 60_000 },
    async () => {
      const seen = await stages(`
      const pit = await Snakepit.start({ ...options, telemetry: { tracing: true } });
      stage('tracing: true');
      await pit.close();
    `);
      expect(seen).toEqual([{ stage: 'tracing: true', apiLoaded: true }]);
      const registered = await stages(`
      const { trace } = require('@opentelemetry/api');
      const sdk = require('@opentelemetry/sdk-trace-base');
      const exporter = new sdk.InMemorySpanExporter();
      trace.setGlobalTracerProvider(
        new sdk.BasicTracerProvider({ spanProcessors: [new sdk.SimpleSpanProcessor(exporter)] }));
      const pit = await Snakepit.start(options);
      await pit.execute('add', { a: 1, b: 2 });
      stage('registered first', { spans: exporter.getFinishedSpans().map((s) => s.name) });
      await pit.close();
    `);
      expect(registered).toEqual([{ stage: 'registered first', apiLoaded: true, spans: ['default/add'] }]);
    },
  );
});
