/**
 * Metrics: a Prometheus `/metrics` endpoint serving `pit.metrics()`, and snakepit's metrics added to a
 * prom-client registry next to an application's own. Run it with
 * `npm run build && node dist/examples/metrics-endpoint.js` (it scrapes itself once and exits; pass `--serve`
 * to keep serving on http://127.0.0.1:9464/metrics). See docs/TELEMETRY.md.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { METRICS_CONTENT_TYPE, Snakepit } from 'snakepit';

const serve = process.argv.includes('--serve');

await Snakepit.runAsScript(
  { adapter: 'snakepit_bridge.adapters.showcase:ShowcaseAdapter', size: 2, logLevel: 'warn' },
  async (pit) => {
    // 1. The endpoint: read the metrics when scraped. Works without prom-client (snakepit renders the text).
    const server = http.createServer((req, res) => {
      if (req.url !== '/metrics') return void res.writeHead(404).end();
      pit.metrics().then(
        (text) => res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE }).end(text),
        (err: Error) => res.writeHead(500).end(err.message),
      );
    });
    await new Promise<void>((resolve) => server.listen(serve ? 9464 : 0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;

    // 2. Some work to count: results, a Python error, a stream.
    await Promise.all(Array.from({ length: 50 }, (_, i) => pit.execute('add', { a: i, b: 1 })));
    await pit.execute('error_demo', {}).catch(() => {});
    for await (const _ of pit.executeStream('count', { n: 10 }));

    // 3. Scrape it, as Prometheus would.
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const pick = (name: string): string | undefined => text.split('\n').find((l) => l.startsWith(name));
    for (const name of [
      'snakepit_requests_total',
      'snakepit_errors_total',
      'snakepit_stream_chunks_total',
      'snakepit_call_duration_seconds_count',
      'snakepit_workers{',
    ])
      console.log(pick(name));

    // 4. With prom-client installed: snakepit's metrics in your own registry, read at each scrape.
    try {
      const prom = await import('prom-client');
      const registry = new prom.Registry();
      new prom.Counter({
        name: 'app_requests_total',
        help: 'Requests the app served.',
        registers: [registry],
      }).inc();
      const unregister = await pit.registerMetrics(registry);
      const mixed = await registry.metrics();
      console.log(
        `prom-client registry: app_requests_total ${mixed.includes('app_requests_total 1') ? 'and' : 'but not'} ` +
          `snakepit_requests_total{pool="default"} ${/snakepit_requests_total\{pool="default"\} 52/.test(mixed) ? '52' : '?'}`,
      );
      unregister();
    } catch {
      console.log('prom-client is not installed: pit.metrics() rendered the text itself');
    }

    if (serve) {
      console.log(`serving http://127.0.0.1:${port}/metrics — Ctrl+C to stop`);
      await new Promise(() => {});
    }
    server.close();
  },
);
