/**
 * Tracing: one trace from a request span in Node down into the Python tool. Uses the OpenTelemetry SDK with an
 * in-memory exporter (in an application: an OTLP exporter). Run it with
 * `npm run build && node dist/examples/tracing.js`. See docs/TELEMETRY.md.
 */
import { fileURLToPath } from 'node:url';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { Snakepit } from 'snakepit';

// 1. The application registers an SDK (snakepit itself depends on @opentelemetry/api only).
const exporter = new InMemorySpanExporter();
trace.setGlobalTracerProvider(
  new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
);
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

const tools = fileURLToPath(new URL('../../examples/python', import.meta.url));

await Snakepit.runAsScript(
  { adapter: 'traced_tools:TracedTools', size: 1, pythonPath: [tools], logLevel: 'info' },
  async (pit) => {
    // 2. A request span, as an HTTP server instrumentation would make; calls inside it become its children.
    const report = await trace.getTracer('example').startActiveSpan('POST /classify', async (span) => {
      try {
        return await pit.execute<{
          traceparent: string;
          correlation_id: string;
          otel_trace_id: string | null;
        }>('where_am_i', { text: 'snakes are great' }, { correlationId: 'req-42' });
      } finally {
        span.end();
      }
    });

    // 3. What the exporter got: the request span and snakepit's call span, its child.
    const spans = exporter.getFinishedSpans();
    const request = spans.find((s) => s.name === 'POST /classify')!;
    const call = spans.find((s) => s.name === 'default/where_am_i')!;
    console.log(`trace ${request.spanContext().traceId}`);
    console.log(`  ${request.name}  span ${request.spanContext().spanId}`);
    console.log(
      `  └─ ${call.name}  span ${call.spanContext().spanId}, parent ${call.parentSpanContext?.spanId} ` +
        `(${String(call.attributes['rpc.system'])}, worker ${String(call.attributes['snakepit.worker'])})`,
    );
    // 4. What Python saw: the call span's context in the call frame, and the correlation id.
    console.log(`python got traceparent ${report.traceparent}`);
    console.log(`python correlation id: ${report.correlation_id}`);
    console.log(
      report.otel_trace_id
        ? `python's current span is in trace ${report.otel_trace_id}: ${report.otel_trace_id === request.spanContext().traceId ? 'the same trace' : 'ANOTHER trace'}`
        : 'python has no OpenTelemetry API installed: the context arrived, no Python span was made',
    );
    console.log(
      `traceparent names the call span: ${report.traceparent.includes(call.spanContext().spanId) ? 'yes' : 'no'}`,
    );
  },
);
