// One trace from Node into Python: a span created in Node is the parent of snakepit's call span, whose W3C
// context travels in the call frame; the worker's span (recorded by an in-memory provider written against the
// OpenTelemetry API, python/tests/fixtures/otel_recording.py) is its child, and the tool's own spans are children
// of that. Without the Python API, or without a Node SDK, calls run as before.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PythonValueError, type Snakepit } from '../../src/index.js';
import { requireOptional, start } from '../helpers.js';

const OTEL_FIXTURES = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'python',
  'tests',
  'fixtures',
);
const ADAPTER = 'otel_recording:TracedAdapter';

interface PySpan {
  name: string;
  kind: string;
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  parent_remote: boolean | null;
  attributes: Record<string, unknown>;
  events: Array<{ name: string; attributes: Record<string, unknown> }>;
  status: { code: string; description: string } | null;
}
interface Ids {
  trace_id: string | null;
  span_id: string | null;
}
interface WorkReport {
  outer: Ids;
  inner: Ids;
  correlation_id: string;
}

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncLocalStorageContextManager();

beforeAll(() => {
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(contextManager.enable());
});
afterAll(() => {
  trace.disable();
  context.disable();
});

/** Run `fn` inside a new active root span, like an HTTP server's request span. */
async function inRequest<T>(fn: () => Promise<T>): Promise<{ value: T; root: Span }> {
  return trace.getTracer('test').startActiveSpan('GET /request', async (root) => {
    try {
      return { value: await fn(), root };
    } finally {
      root.end();
    }
  });
}

const hostSpan = (callTool: string): ReadableSpan =>
  exporter.getFinishedSpans().find((s) => s.name === `traced/${callTool}`)!;

describe('a trace across the boundary', () => {
  let pit: Snakepit;
  let recording = false;

  beforeAll(async () => {
    pit = await start({ adapter: ADAPTER, name: 'traced', size: 1, pythonPath: [OTEL_FIXTURES] });
    recording = (await pit.execute<{ recording: boolean }>('otel')).recording;
  });
  afterAll(() => pit?.close());

  const pySpans = async (): Promise<PySpan[]> => pit.execute<PySpan[]>('spans', { clear: true });

  it('a Node span is the parent of the call span, whose child is the Python span, whose child is the tool’s', async () => {
    if (!requireOptional(recording, 'the OpenTelemetry API for Python (opentelemetry-api)')) return;
    await pySpans();
    exporter.reset();
    const { value, root } = await inRequest(() => pit.execute<WorkReport>('work', { label: 'sync' }));
    const rootCtx = root.spanContext();
    const call = hostSpan('work');
    expect(call.parentSpanContext?.spanId).toBe(rootCtx.spanId);
    expect(call.spanContext().traceId).toBe(rootCtx.traceId);
    expect(call.kind).toBe(SpanKind.CLIENT);
    expect(call.attributes).toMatchObject({
      'rpc.system': 'snakepit',
      'rpc.service': 'traced',
      'rpc.method': 'work',
      'snakepit.pool': 'traced',
      'snakepit.tool': 'work',
      'snakepit.worker': 'traced-1',
      'snakepit.stream': false,
      'snakepit.correlation_id': value.correlation_id,
    });
    expect(typeof call.attributes['snakepit.queue_wait_ms']).toBe('number');

    const spans = await pySpans();
    const server = spans.find((s) => s.name === 'traced/work')!;
    expect(server).toMatchObject({
      kind: 'SERVER',
      trace_id: rootCtx.traceId,
      parent_span_id: call.spanContext().spanId,
      parent_remote: true,
      status: null,
    });
    expect(server.attributes).toMatchObject({
      'rpc.system': 'snakepit',
      'rpc.method': 'work',
      'snakepit.worker': 'traced-1',
      'snakepit.correlation_id': value.correlation_id,
    });
    // The tool ran with the worker's span current, and its own span is the worker span's child.
    expect(value.outer).toEqual({ trace_id: rootCtx.traceId, span_id: server.span_id });
    const inner = spans.find((s) => s.name === 'inner.sync')!;
    expect(inner).toMatchObject({
      trace_id: rootCtx.traceId,
      parent_span_id: server.span_id,
      parent_remote: false,
    });
    expect(value.inner.span_id).toBe(inner.span_id);
  });

  it('async tools and streams are traced the same way', async () => {
    if (!requireOptional(recording, 'the OpenTelemetry API for Python (opentelemetry-api)')) return;
    await pySpans();
    exporter.reset();
    const { value, root } = await inRequest(async () => {
      const a = await pit.execute<WorkReport>('awork', { label: 'async' });
      const chunks: Ids[] = [];
      for await (const c of pit.executeStream('swork', { n: 3 })) chunks.push(c as Ids);
      return { a, chunks };
    });
    const traceId = root.spanContext().traceId;
    const spans = await pySpans();
    const aserver = spans.find((s) => s.name === 'traced/awork')!;
    expect(aserver).toMatchObject({
      trace_id: traceId,
      parent_span_id: hostSpan('awork').spanContext().spanId,
    });
    expect(value.a.outer.span_id).toBe(aserver.span_id);
    expect(spans.find((s) => s.name === 'inner.async')!.parent_span_id).toBe(aserver.span_id);

    const sserver = spans.find((s) => s.name === 'traced/swork')!;
    const shost = hostSpan('swork');
    expect(sserver).toMatchObject({ trace_id: traceId, parent_span_id: shost.spanContext().spanId });
    expect(value.chunks.map((c) => c.span_id)).toEqual([sserver.span_id, sserver.span_id, sserver.span_id]);
    expect(shost.attributes).toMatchObject({ 'snakepit.stream': true, 'snakepit.chunks': 3 });
  });

  it('an error marks both spans', async () => {
    if (!requireOptional(recording, 'the OpenTelemetry API for Python (opentelemetry-api)')) return;
    await pySpans();
    exporter.reset();
    await inRequest(() =>
      expect(pit.execute('fail', { message: 'bad input' })).rejects.toBeInstanceOf(PythonValueError),
    );
    const call = hostSpan('fail');
    expect(call.status).toEqual({
      code: SpanStatusCode.ERROR,
      message: expect.stringContaining('bad input'),
    });
    expect(call.attributes['error.type']).toBe('PythonValueError');
    expect(call.events.map((e) => e.name)).toContain('exception');
    const server = (await pySpans()).find((s) => s.name === 'traced/fail')!;
    expect(server.status).toEqual({ code: 'ERROR', description: 'bad input' });
    expect(server.attributes['error.type']).toBe('ValueError');
    expect(server.events[0]).toMatchObject({
      name: 'exception',
      attributes: { 'exception.type': 'ValueError', 'exception.message': 'bad input' },
    });
  });

  it('without a registered tracer provider nothing is traced and the frame carries no trace', async () => {
    await pySpans();
    trace.disable();
    try {
      exporter.reset();
      const value = await pit.execute<WorkReport>('work', { label: 'untraced' });
      expect(value.outer).toEqual({ trace_id: null, span_id: null });
      expect(exporter.getFinishedSpans()).toEqual([]);
      // the worker made no span for the call; the tool's own span is a root (the clearing call was traced)
      const spans = (await pySpans()).filter((s) => s.name !== 'traced/spans');
      expect(spans.map((s) => [s.name, s.parent_span_id])).toEqual([['inner.untraced', null]]);
    } finally {
      trace.setGlobalTracerProvider(provider);
    }
  });
});

describe('telemetry.tracing switches', () => {
  it('tracing: false makes no span even with an SDK registered', async () => {
    const pit = await start({
      adapter: ADAPTER,
      size: 1,
      pythonPath: [OTEL_FIXTURES],
      telemetry: { tracing: false },
    });
    try {
      exporter.reset();
      const { value } = await inRequest(() => pit.execute<WorkReport>('work', {}));
      expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['GET /request']);
      expect(value.outer.span_id).toBeNull();
    } finally {
      await pit.close();
    }
  });
});

const PYENV = '/root/.pyenv/versions';
const interpreters = [
  ['3.9', `${PYENV}/3.9.18/bin/python3.9`],
  ['3.13', `${PYENV}/3.13.0/bin/python3.13`],
].map(([minor, exe]) => [minor!, existsSync(exe!) ? exe : undefined] as const);

describe.each(interpreters)('Python %s without the OpenTelemetry API', (_minor, python) => {
  it.runIf(python)('runs traced calls untraced, and still has correlation ids', async () => {
    const pit = await start({
      adapter: ADAPTER,
      name: 'traced',
      size: 1,
      pythonPath: [OTEL_FIXTURES],
      python: { executable: python! },
    });
    try {
      expect(await pit.execute('otel')).toEqual({ recording: false, available: false });
      exporter.reset();
      const { value } = await inRequest(() =>
        pit.execute<WorkReport>('work', {}, { correlationId: 'req-39' }),
      );
      expect(value).toEqual({
        outer: { trace_id: null, span_id: null },
        inner: { trace_id: null, span_id: null },
        correlation_id: 'req-39',
      });
      expect(hostSpan('work').attributes['snakepit.correlation_id']).toBe('req-39'); // the host side still traces
      await expect(pit.execute('fail', {})).rejects.toBeInstanceOf(PythonValueError);
    } finally {
      await pit.close();
    }
  });
});
