// docs/grafana/snakepit-dashboard.json stays true to the metrics: it names only metrics snakepit exports, and a
// real Prometheus (Debian's `prometheus`) scraping a live pool's /metrics answers every one of its queries.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Snakepit } from '../../src/index.js';
import { METRIC_DEFS } from '../../src/telemetry/metrics.js';
import { commandWorks } from '../dashboard-helpers.js';
import { requireOptional, start } from '../helpers.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Target {
  expr: string;
  refId: string;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource: { uid: string };
  targets: Target[];
}
const dashboard = JSON.parse(
  readFileSync(join(REPO, 'docs', 'grafana', 'snakepit-dashboard.json'), 'utf8'),
) as { panels: Panel[]; templating: { list: Array<{ name: string; definition?: string }> } };
const queries = dashboard.panels.flatMap((p) => p.targets.map((t) => ({ panel: p.title, expr: t.expr })));

/** Metric names a query reads (a histogram's `_bucket` counts as the histogram). */
function metricsOf(expr: string): string[] {
  return [...expr.matchAll(/\bsnakepit_[a-z_]+/g)].map((m) => m[0].replace(/_bucket$/, ''));
}

describe('the Grafana dashboard JSON', () => {
  it('reads only metrics snakepit exports, each pool metric filtered by $pool, from the chosen data source', () => {
    const known = new Set(METRIC_DEFS.map((d) => d.name));
    const poolScoped = new Set(METRIC_DEFS.filter((d) => !d.sessions).map((d) => d.name));
    const histograms = new Set(METRIC_DEFS.filter((d) => d.type === 'histogram').map((d) => d.name));
    expect(queries.length).toBeGreaterThan(20);
    for (const { panel, expr } of queries) {
      const names = metricsOf(expr);
      expect(names.length, `${panel}: ${expr}`).toBeGreaterThan(0);
      for (const name of names) {
        expect(known.has(name), `${panel} reads ${name}`).toBe(true);
        if (poolScoped.has(name))
          expect(expr, panel).toContain(`${name}${histograms.has(name) ? '_bucket' : ''}{pool=~"$pool"}`);
      }
    }
    for (const p of dashboard.panels) expect(p.datasource.uid).toBe('${datasource}');
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(['datasource', 'pool']);
  });

  it('lays its panels out on the 24-column grid without overlaps, with unique ids', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const { gridPos: g, title } of dashboard.panels) {
      expect(g.x + g.w, title).toBeLessThanOrEqual(24);
      for (let x = g.x; x < g.x + g.w; x++) {
        for (let y = g.y; y < g.y + g.h; y++) {
          expect(cells.has(`${x},${y}`), `${title} overlaps at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
      }
    }
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe.runIf(
  requireOptional(commandWorks('prometheus'), 'Prometheus (prometheus)', '`apt-get install prometheus`'),
)('the Grafana dashboard against a real Prometheus', () => {
  let pit: Snakepit;
  let prometheus: ChildProcess;
  let dir: string;
  let api: string;
  let running = true;
  let load: Promise<void>;

  beforeAll(async () => {
    pit = await start({ size: 2, name: 'graf' });
    const dash = await pit.dashboard({ port: 0 });
    running = true;
    load = (async () => {
      let i = 0;
      while (running) {
        await Promise.all([
          pit.execute('sleep', { seconds: 0.01 }),
          pit.execute('add', { a: i, b: 1 }),
          pit.executeInSession(`s-${i % 3}`, 'add', { a: 1, b: 1 }),
          pit.execute('error_demo', {}).catch(() => {}),
        ]);
        i++;
      }
    })();
    dir = mkdtempSync(join(tmpdir(), 'snakepit-prometheus-'));
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: snakepit\n    static_configs:\n      - targets: ['127.0.0.1:${dash.port}']\n`,
    );
    const port = await freePort();
    api = `http://127.0.0.1:${port}/api/v1`;
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=error',
      ],
      { stdio: 'ignore' },
    );
    // Enough scrapes for rate() over the 5 s used below (Prometheus has no event to wait on: ask it).
    const deadline = Date.now() + 30_000;
    for (;;) {
      const r = await query('count_over_time(snakepit_workers[1m])').catch(() => []);
      if (Number(r[0]?.value[1] ?? 0) >= 6) break;
      if (Date.now() > deadline) throw new Error('Prometheus did not scrape snakepit six times in 30 s');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }, 60_000);

  afterAll(async () => {
    running = false;
    await load;
    if (prometheus?.exitCode === null) {
      const exited = new Promise((resolve) => prometheus.on('exit', resolve));
      prometheus.kill('SIGTERM');
      await exited;
    }
    await pit?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function query(
    expr: string,
  ): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
    const res = await fetch(`${api}/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; error?: string; data: { result: [] } };
    if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
    return body.data.result;
  }

  it('every panel query parses and returns series from a live pool', async () => {
    const empty: string[] = [];
    for (const { panel, expr } of queries) {
      const concrete = expr.replaceAll('$__rate_interval', '5s').replaceAll('$pool', '.*');
      const result = await query(concrete);
      if (result.length === 0) empty.push(`${panel}: ${concrete}`);
    }
    expect(empty).toEqual([]);
    const variable = dashboard.templating.list.find((v) => v.name === 'pool')!.definition!;
    expect(variable).toBe('label_values(snakepit_workers, pool)');
    const pools = await query('group by (pool) (snakepit_workers)');
    expect(pools.map((r) => r.metric['pool'])).toEqual(['graf']);
  });
});
