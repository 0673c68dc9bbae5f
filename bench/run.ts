/**
 * `npm run bench`: snakepit against a bare framed loop and the other Node↔Python bridges, side by side in one run.
 *
 * Every system runs every workload in a fresh Node process (bench/child.ts), rounds interleaved (all systems in
 * round 1, then all in round 2, …) so machine noise hits them alike; tables show medians with min–max. The
 * robustness table is observed from child processes too (bench/robustness.ts). Output: bench/results/<ts>.json,
 * docs/bench-latest.svg, and the "Latest run" section of docs/PERFORMANCE.md.
 *
 * Flags: --rounds N (3) · --systems a,b · --workloads a,b (every one; a subset implies --no-docs) · --workers N (2) · --quick (tiny sizes: a correctness smoke run, no
 * timing claims) · --no-docs (do not touch docs/) · --no-robustness · --robustness-only (observe the robustness
 * table alone and replace only that table in docs/PERFORMANCE.md: its cells do not depend on a quiet machine)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { resolvePython } from '../src/python-env/interpreter.js';
import { runChild } from './lib/children.js';
import { fmt, markdownTable, median, resultsTable, svgChart, type Row } from './lib/report.js';
import { observe, SCENARIO_LABELS, SCENARIOS, type Cell } from './robustness.js';
import { SYSTEMS } from './systems/index.js';
import { WORKLOADS, type WorkloadResult } from './workloads.js';

const { values: flags } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    systems: { type: 'string' },
    workloads: { type: 'string' },
    workers: { type: 'string', default: '2' },
    quick: { type: 'boolean', default: false },
    'no-docs': { type: 'boolean', default: false },
    'no-robustness': { type: 'boolean', default: false },
    'robustness-only': { type: 'boolean', default: false },
    'start-only': { type: 'boolean', default: false },
  },
});

const ROOT = dirname(fileURLToPath(import.meta.url))
  .replace(/\/dist\/bench$/, '')
  .replace(/\/bench$/, '');
const ROUNDS = Number(flags.rounds);
const WORKERS = Number(flags.workers);
const QUICK = flags.quick;
const START_ONLY = flags['start-only'];

interface StartupSample {
  readyMs: number;
  workers: number;
  workerRssMb: number[];
  hostRssMb: number;
  /** PSS and USS summed over the system's processes (workers, and snakepit's template). */
  treePssMb?: number;
  treeUssMb?: number;
}

/** The system whose start-up is also measured cold (template off), and whose replacement time is measured. */
const COLD_TOO = 'snakepit-msgpack';

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

function machine(python: string): Record<string, string> {
  const version = execFileSync(python, ['-c', 'import sys; print(sys.version.split()[0])']).toString().trim();
  return {
    cpu: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`,
    memory: `${Math.round(totalmem() / 2 ** 30)} GiB`,
    'memory bandwidth': memoryBandwidth(),
    node: process.version,
    python: `${version} (${python})`,
  };
}

/**
 * What one copy of 100 MB costs on this machine (Buffer.copy, warm pages, best of 5): the floor under the 100 MB
 * array row, which needs a copy each way on the host (Node cannot map shared memory without a native addon).
 * Also a copy into fresh memory, as a result needs (a new Buffer: its pages are faulted in on first touch).
 */
function memoryBandwidth(): string {
  const from = Buffer.alloc(100e6, 1);
  const to = Buffer.alloc(100e6);
  let best = Infinity;
  let fresh = Infinity;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    from.copy(to);
    best = Math.min(best, performance.now() - t0);
    const t1 = performance.now();
    from.copy(Buffer.allocUnsafeSlow(100e6));
    fresh = Math.min(fresh, performance.now() - t1);
  }
  return `${(100e6 / 1e9 / (best / 1000)).toFixed(1)} GB/s (one 100 MB copy: ${best.toFixed(1)} ms; into fresh memory: ${fresh.toFixed(1)} ms)`;
}

async function main(): Promise<void> {
  const python = resolvePython(undefined).executable;
  const pythonDir = join(ROOT, 'bench', 'python');
  const wanted = flags.systems ? flags.systems.split(',') : SYSTEMS.map((s) => s.id);
  const systems = SYSTEMS.filter((s) => wanted.includes(s.id));
  const skipped: Record<string, string> = {};
  const active = [];
  for (const s of systems) {
    const why = await s.unavailable();
    if (why) {
      skipped[s.id] = why;
      log(`skipping ${s.label}: ${why}`);
    } else active.push(s);
  }
  const info = machine(python);
  log(`snakepit bench — ${info.cpu}, ${info.memory}, Node ${info.node}, Python ${info.python}`);
  log(`memory bandwidth: ${info['memory bandwidth']}`);
  log(`${ROUNDS} interleaved round(s), ${WORKERS} workers${QUICK ? ', QUICK sizes (no timing claims)' : ''}`);

  const workloads = flags.workloads?.split(',');
  const unknown = workloads?.filter((w) => !(w in WORKLOADS));
  if (unknown?.length)
    throw new Error(`unknown workload "${unknown[0]}" (known: ${Object.keys(WORKLOADS).join(', ')})`);
  compileBytecode(python, [join(ROOT, 'python'), pythonDir]);
  const base = { python, pythonDir, workers: WORKERS, quick: QUICK, ...(workloads ? { workloads } : {}) };
  if (flags['robustness-only']) return robustnessOnly(active, base);
  const work: Record<string, Array<Record<string, WorkloadResult>>> = {};
  const startup: Record<string, Record<string, StartupSample[] | string>> = {};
  const replace: Record<string, number[]> = {};
  const replaceNote: Record<string, string> = {};
  const loads: number[] = [];
  const t0 = performance.now();
  for (let round = 1; round <= ROUNDS; round++) {
    for (const s of active) {
      loads.push(loadavg()[0]!);
      // a subset of the workloads (--workloads) measures them alone: no start-up or replacement rows
      for (const cold of workloads ? [] : s.id === COLD_TOO ? [false, true] : [false]) {
        for (const w of [1, 8]) {
          const key = `start${w}${cold ? 'cold' : ''}`;
          const run = await runChild(
            'child.js',
            [s.id, 'startup', JSON.stringify({ ...base, workers: w, ...(cold ? { template: false } : {}) })],
            60_000,
          );
          const sample = run.result as StartupSample | undefined;
          const slot = ((startup[s.id] ??= {})[key] ??= []);
          if (!sample)
            startup[s.id]![key] = `failed: ${run.stderr.split('\n').find(Boolean) ?? `exit ${run.code}`}`;
          else if (Array.isArray(slot)) slot.push(sample);
        }
      }
      if (s.id === COLD_TOO && !workloads) {
        for (const template of [true, false]) {
          const run = await runChild(
            'child.js',
            [s.id, 'replace', JSON.stringify({ ...base, template })],
            120_000,
          );
          const r = run.result as { replaceMs?: number[]; unavailable?: string } | undefined;
          const key = template ? 'replaceTemplate' : 'replaceCold';
          if (r?.replaceMs) (replace[key] ??= []).push(...r.replaceMs);
          else
            replaceNote[key] =
              r?.unavailable ?? `failed: ${run.stderr.split('\n').find(Boolean) ?? run.code}`;
        }
      }
      if (!START_ONLY) {
        const run = await runChild('child.js', [s.id, 'workloads', JSON.stringify(base)], 600_000);
        if (run.result) (work[s.id] ??= []).push(run.result as Record<string, WorkloadResult>);
        else log(`  ${s.label} round ${round} failed: ${run.stderr.split('\n').slice(0, 3).join(' | ')}`);
      }
      log(
        `round ${round}/${ROUNDS}: ${s.label} done (${Math.round((performance.now() - t0) / 1000)} s, load ${loadavg()[0]!.toFixed(2)})`,
      );
    }
  }

  const robustness = flags['no-robustness'] || START_ONLY ? {} : await observeAll(active, base);

  const rows = buildRows(
    active.map((s) => s.id),
    work,
    startup,
    { samples: replace, notes: replaceNote },
  );
  const labels = active.map((s) => ({ id: s.id, label: s.label }));
  const table = resultsTable(rows, labels);
  const robustTable = robustnessTable(active, robustness);
  const targets = targetsTable(rows);
  log(`\n${table}\n\n${robustTable}\n\n${targets}`);

  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const outDir = join(ROOT, 'bench', 'results');
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `${stamp}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        machine: info,
        rounds: ROUNDS,
        workers: WORKERS,
        quick: QUICK,
        loads,
        skipped,
        work,
        startup,
        replace: { samples: replace, notes: replaceNote },
        robustness,
      },
      null,
      2,
    ),
  );
  log(`\nraw results: ${file}`);
  if (!flags['no-docs'] && !QUICK && !workloads && !START_ONLY) {
    const svg = svgChart(rows, labels, `snakepit bench, ${new Date().toISOString().slice(0, 10)}`);
    writeFileSync(join(ROOT, 'docs', 'bench-latest.svg'), svg);
    updatePerformanceDoc({
      info,
      loads,
      table,
      robustTable,
      targets,
      skipped,
      file: file.slice(ROOT.length + 1),
    });
    log('updated docs/PERFORMANCE.md and docs/bench-latest.svg');
  }
}

/** Bytecode for these folders (what a first run of each module would write, were writing allowed). */
function compileBytecode(python: string, dirs: string[]): void {
  try {
    execFileSync(python, ['-m', 'compileall', '-q', ...dirs], { stdio: 'ignore' });
  } catch {
    log('could not compile the bridge to bytecode: start-up rows include compiling it');
  }
}

async function observeAll(
  systems: Array<{ id: string; label: string }>,
  base: object,
): Promise<Record<string, Record<string, Cell>>> {
  const robustness: Record<string, Record<string, Cell>> = {};
  // The bare loop is a measuring stick with no error handling at all, not a bridge: it has no robustness column.
  for (const s of systems.filter((x) => !x.id.startsWith('bare-'))) {
    for (const scenario of SCENARIOS) {
      (robustness[s.id] ??= {})[scenario] = await observe(s.id, scenario, base);
    }
    log(`robustness: ${s.label} observed`);
  }
  return robustness;
}

/** `--robustness-only`: observe the table and put it in place of the one in docs/PERFORMANCE.md's latest run. */
async function robustnessOnly(systems: Array<{ id: string; label: string }>, base: object): Promise<void> {
  const table = robustnessTable(systems, await observeAll(systems, base));
  log(`\n${table}`);
  if (flags['no-docs'] || QUICK) return;
  const path = join(ROOT, 'docs', 'PERFORMANCE.md');
  const doc = readFileSync(path, 'utf8');
  const head = '### Robustness (observed by the harness in the same run)\n\n';
  const start = doc.indexOf(head);
  const end = doc.indexOf('\n\n### Targets', start);
  if (start < 0 || end < 0) throw new Error('docs/PERFORMANCE.md has no robustness table to replace');
  const note =
    `Observed ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC with \`npm run bench -- ` +
    '--robustness-only` (the cells do not depend on timings, so the table is refreshed without a full run).\n\n';
  writeFileSync(path, doc.slice(0, start) + head + note + table + doc.slice(end));
  log('updated the robustness table in docs/PERFORMANCE.md');
}

function cellMark(cell: Cell | undefined): string {
  if (!cell) return '–';
  if (cell.na) return `n/a: ${cell.text}`;
  return `${cell.good ? '✓' : '✗'} ${cell.text}`;
}

/** One row per case, one column per system. */
function robustnessTable(
  systems: Array<{ id: string; label: string }>,
  robustness: Record<string, Record<string, Cell>>,
): string {
  const observed = systems.filter((s) => robustness[s.id]);
  return markdownTable(
    ['case', ...observed.map((s) => s.label)],
    SCENARIOS.map((sc) => [SCENARIO_LABELS[sc], ...observed.map((s) => cellMark(robustness[s.id]?.[sc]))]),
  );
}

function samples(
  work: Array<Record<string, WorkloadResult>> | undefined,
  workload: string,
  metric: string,
): number[] | string {
  if (!work?.length) return 'failed';
  const results = work.map((r) => r[workload]).filter((r): r is WorkloadResult => r !== undefined);
  const first = results[0];
  if (!first) return '–';
  if (first.na) return `n/a: ${first.note}`;
  if (results.some((r) => !r.ok)) return `✗ ${results.find((r) => !r.ok)?.note}`;
  return results.map((r) => r.metrics[metric]!).filter((v) => Number.isFinite(v));
}

function buildRows(
  ids: string[],
  work: Record<string, Array<Record<string, WorkloadResult>>>,
  startup: Record<string, Record<string, StartupSample[] | string>>,
  replace: { samples: Record<string, number[]>; notes: Record<string, string> },
): Row[] {
  const row = (
    label: string,
    better: Row['better'],
    workload: string,
    metric: string,
    chart = false,
  ): Row => ({
    label,
    better,
    chart,
    cells: Object.fromEntries(ids.map((id) => [id, samples(work[id], workload, metric)])),
  });
  const start = (
    label: string,
    key: string,
    pick: (s: StartupSample) => number | undefined,
    chart = false,
  ): Row => ({
    label,
    better: 'lower',
    chart,
    cells: Object.fromEntries(
      ids.map((id) => {
        const s = startup[id]?.[key];
        if (s === undefined) return [id, '–'];
        if (typeof s === 'string') return [id, s];
        if (key === 'start8' && s[0] && s[0].workers < 8)
          return [id, `n/a: ${s[0].workers === 0 ? 'in-process' : 'one process'}`];
        const v = s.map(pick).filter((x): x is number => x !== undefined && Number.isFinite(x));
        return [id, v.length ? v : 'n/a: no worker process'];
      }),
    ),
  });
  const rows = [
    row('(a) trivial call, sequential: p50 µs', 'lower', 'sequential', 'p50Us', true),
    row('(a) trivial call, sequential: p99 µs', 'lower', 'sequential', 'p99Us'),
    row('(a) trivial call, sequential: calls/s', 'higher', 'sequential', 'callsPerSec'),
    row('(b) 10,000-float list argument: calls/s', 'higher', 'floats-list', 'callsPerSec', true),
    row('(b) Float64Array argument: calls/s', 'higher', 'floats-typed', 'callsPerSec', true),
    row('(c) trivial calls, 64 in flight: calls/s', 'higher', 'concurrent', 'callsPerSec', true),
    row('(d) 8 CPU-bound 50 ms calls at once: wall ms', 'lower', 'cpu-parallel', 'wallMs', true),
    row('(e) 8 blocking 100 ms sleeps at once: wall ms', 'lower', 'sleep-parallel', 'wallMs', true),
    row('(f) 100,000-chunk stream: chunks/s', 'higher', 'stream', 'chunksPerSec', true),
    row('(g) 1 MiB bytes round trip: p50 ms', 'lower', 'bytes', 'p50Ms', true),
    row('(j) 100 MB Float64Array → numpy x * 2 → back: p50 ms', 'lower', 'big-array', 'p50Ms', true),
    row('(k) 1,000,000-row Arrow table → pandas → back: p50 ms', 'lower', 'table', 'p50Ms', true),
    start('(h) start 1 worker to ready: ms', 'start1', (s) => s.readyMs, true),
    start('(h) start 8 workers to ready: ms', 'start8', (s) => s.readyMs),
    start('(i) idle RSS per worker: MB', 'start1', (s) =>
      s.workerRssMb.length ? median(s.workerRssMb) : undefined,
    ),
    start('(i) host RSS with 1 worker: MB', 'start1', (s) => s.hostRssMb),
    onlySnakepit('(h) start 1 worker cold (template off): ms', startup, 'start1cold', (s) => s.readyMs),
    onlySnakepit('(h) start 8 workers cold (template off): ms', startup, 'start8cold', (s) => s.readyMs),
    perAdditional('(i) PSS per additional idle worker: MB', ids, startup, '', (s) => s.treePssMb),
    perAdditional('(i) USS per additional idle worker: MB', ids, startup, '', (s) => s.treeUssMb),
    onlySnakepit(
      '(i) PSS per additional idle worker, cold: MB',
      startup,
      'cold',
      undefined,
      (s) => s.treePssMb,
    ),
    replaceRow('(l) replacement after SIGKILL, pandas adapter, template: ms', replace, 'replaceTemplate'),
    replaceRow('(l) replacement after SIGKILL, pandas adapter, cold: ms', replace, 'replaceCold'),
  ];
  // a run of some workloads (--workloads) shows only their rows
  return rows.filter((r) => Object.values(r.cells).some((c) => c !== '–'));
  function onlySnakepit(
    label: string,
    data: typeof startup,
    key: string,
    pick?: (s: StartupSample) => number | undefined,
    perWorker?: (s: StartupSample) => number | undefined,
  ): Row {
    const row = perWorker
      ? perAdditional(label, [COLD_TOO], data, key, perWorker)
      : {
          label,
          better: 'lower' as const,
          chart: false,
          cells: { [COLD_TOO]: cellOf(data[COLD_TOO]?.[key], pick!) },
        };
    for (const id of ids) row.cells[id] ??= '–';
    return row;
  }
  function replaceRow(label: string, data: typeof replace, key: string): Row {
    const cell = data.samples[key]?.length ? data.samples[key]! : (data.notes[key] ?? '–');
    return {
      label,
      better: 'lower',
      chart: false,
      cells: Object.fromEntries(ids.map((id) => [id, id === COLD_TOO ? cell : '–'])),
    };
  }
}

function cellOf(
  s: StartupSample[] | string | undefined,
  pick: (s: StartupSample) => number | undefined,
): Row['cells'][string] {
  if (s === undefined) return '–';
  if (typeof s === 'string') return s;
  const v = s.map(pick).filter((x): x is number => x !== undefined && Number.isFinite(x));
  return v.length ? v : '–';
}

/**
 * What one more idle worker costs: (the tree with 8 workers − the tree with 1) / 7, round by round. A system with
 * one process whatever the worker count has no such number.
 */
function perAdditional(
  label: string,
  ids: string[],
  startup: Record<string, Record<string, StartupSample[] | string>>,
  suffix: string,
  pick: (s: StartupSample) => number | undefined,
): Row {
  const cells: Row['cells'] = {};
  for (const id of ids) {
    const one = startup[id]?.[`start1${suffix}`];
    const eight = startup[id]?.[`start8${suffix}`];
    if (!Array.isArray(one) || !Array.isArray(eight)) {
      cells[id] = typeof one === 'string' ? one : typeof eight === 'string' ? eight : '–';
      continue;
    }
    if (eight[0] && eight[0].workers < 8) {
      cells[id] = `n/a: ${eight[0].workers === 0 ? 'in-process' : 'one process'}`;
      continue;
    }
    const values: number[] = [];
    for (let i = 0; i < Math.min(one.length, eight.length); i++) {
      const a = pick(one[i]!);
      const b = pick(eight[i]!);
      if (a !== undefined && b !== undefined) values.push((b - a) / 7);
    }
    cells[id] = values.length ? values : 'n/a: no /proc';
  }
  return { label, better: 'lower', chart: false, cells };
}

function targetsTable(rows: Row[]): string {
  const get = (label: string, id: string): number | undefined => {
    const c = rows.find((r) => r.label.startsWith(label))?.cells[id];
    return Array.isArray(c) && c.length ? median(c) : undefined;
  };
  const out: string[][] = [];
  const check = (
    target: string,
    measured: number | undefined,
    ok: (v: number) => boolean,
    unit: string,
  ): void => {
    out.push([
      target,
      measured === undefined ? '–' : `${fmt(measured)} ${unit}`,
      measured === undefined ? 'not measured' : ok(measured) ? 'met' : 'not met',
    ]);
  };
  check(
    'msgpack trivial call p50 ≤ 60 µs',
    get('(a) trivial call, sequential: p50', 'snakepit-msgpack'),
    (v) => v <= 60,
    'µs',
  );
  check(
    'msgpack trivial call p99 ≤ 250 µs',
    get('(a) trivial call, sequential: p99', 'snakepit-msgpack'),
    (v) => v <= 250,
    'µs',
  );
  check(
    'JSON trivial call p50 ≤ 90 µs',
    get('(a) trivial call, sequential: p50', 'snakepit-json'),
    (v) => v <= 90,
    'µs',
  );
  check(
    'JSON trivial call p99 ≤ 300 µs',
    get('(a) trivial call, sequential: p99', 'snakepit-json'),
    (v) => v <= 300,
    'µs',
  );
  check(
    'msgpack ≥ 60,000 calls/s, 64 in flight',
    get('(c)', 'snakepit-msgpack'),
    (v) => v >= 60_000,
    'calls/s',
  );
  check('JSON ≥ 40,000 calls/s, 64 in flight', get('(c)', 'snakepit-json'), (v) => v >= 40_000, 'calls/s');
  const bare = get('(c)', 'bare-msgpack');
  const pit = get('(c)', 'snakepit-msgpack');
  check(
    'msgpack 64-in-flight ≥ 70 % of the bare loop',
    bare && pit ? (pit / bare) * 100 : undefined,
    (v) => v >= 70,
    '%',
  );
  const bareJson = get('(c)', 'bare-json');
  const pitJson = get('(c)', 'snakepit-json');
  check(
    'JSON 64-in-flight ≥ 70 % of the bare loop',
    bareJson && pitJson ? (pitJson / bareJson) * 100 : undefined,
    (v) => v >= 70,
    '%',
  );
  check(
    'number[] of 10,000 floats ≥ 1,000 calls/s',
    get('(b) 10,000', 'snakepit-msgpack'),
    (v) => v >= 1000,
    'calls/s',
  );
  const pyia = get('(b) 10,000', 'pythonia');
  const mine = get('(b) 10,000', 'snakepit-msgpack');
  check('number[] ≥ 5× pythonia, same run', pyia && mine ? mine / pyia : undefined, (v) => v >= 5, '×');
  check(
    'Float64Array → numpy ≥ 5,000 calls/s',
    get('(b) Float64Array', 'snakepit-msgpack'),
    (v) => v >= 5000,
    'calls/s',
  );
  check(
    'stream ≥ 200,000 chunks/s (msgpack)',
    get('(f)', 'snakepit-msgpack'),
    (v) => v >= 200_000,
    'chunks/s',
  );
  check('1 MiB bytes round trip ≤ 3 ms', get('(g)', 'snakepit-msgpack'), (v) => v <= 3, 'ms');
  // Shared memory (docs/DATA.md): large values against the in-process bridge, same run.
  const ncpF64 = get('(b) Float64Array', 'node-calls-python');
  const pitF64 = get('(b) Float64Array', 'snakepit-msgpack');
  check(
    'Float64Array → numpy ≥ node-calls-python (calls/s ratio)',
    ncpF64 && pitF64 ? pitF64 / ncpF64 : undefined,
    (v) => v >= 1,
    '×',
  );
  const ncpBytes = get('(g)', 'node-calls-python');
  const pitBytes = get('(g)', 'snakepit-msgpack');
  check(
    '1 MiB bytes round trip ≤ node-calls-python (time ratio)',
    ncpBytes && pitBytes ? pitBytes / ncpBytes : undefined,
    (v) => v <= 1,
    '×',
  );
  check(
    '100 MB Float64Array → numpy x * 2 → back ≤ 100 ms (default options)',
    get('(j)', 'snakepit-msgpack'),
    (v) => v <= 100,
    'ms',
  );
  check('8 workers to ready ≤ 1 s', get('(h) start 8', 'snakepit-msgpack'), (v) => v <= 1000, 'ms');
  check('1 worker to ready ≤ 150 ms', get('(h) start 1', 'snakepit-msgpack'), (v) => v <= 150, 'ms');
  check('idle worker RSS ≤ 15 MB', get('(i) idle RSS', 'snakepit-msgpack'), (v) => v <= 15, 'MB');
  const coldOne = get('(h) start 1 worker cold', 'snakepit-msgpack');
  const shellOne = get('(h) start 1 worker to ready', 'python-shell');
  check(
    "1 worker cold to ready ≤ python-shell's, same run",
    coldOne !== undefined && shellOne !== undefined ? coldOne / shellOne : undefined,
    (v) => v <= 1,
    '×',
  );
  check(
    'replacement of a pandas-importing worker ≤ 30 ms (template)',
    get('(l) replacement after SIGKILL, pandas adapter, template', 'snakepit-msgpack'),
    (v) => v <= 30,
    'ms',
  );
  check(
    'PSS per additional idle worker ≤ 5 MB',
    get('(i) PSS per additional idle worker: MB', 'snakepit-msgpack'),
    (v) => v <= 5,
    'MB',
  );
  const perCore = pit ? pit / cpus().length : undefined;
  check(
    "Snakepit's 1,500 req/s on 8 cores (188/core) × 10 = ≥ 1,875 calls/s per core",
    perCore,
    (v) => v >= 1875,
    'calls/s/core',
  );
  check(
    "Snakepit's p99 of 8 ms ÷ 10 = ≤ 0.8 ms (msgpack trivial call p99)",
    get('(a) trivial call, sequential: p99', 'snakepit-msgpack'),
    (v) => v <= 800,
    'µs',
  );
  const behind = behindPeers(rows, ['pythonia', 'python-shell']);
  out.push([
    'ahead of pythonia and python-shell on every workload (snakepit msgpack; within 5 % counts as level)',
    behind === undefined ? '–' : behind.length ? `behind on: ${behind.join('; ')}` : 'ahead on every row',
    behind === undefined ? 'not measured' : behind.length ? 'not met' : 'met',
  ]);
  return markdownTable(['target (see "Targets")', 'snakepit measured', 'verdict'], out);
}

/** Labels of the rows where a peer's median beats snakepit (msgpack); undefined when snakepit was not run. */
function behindPeers(rows: Row[], peers: string[]): string[] | undefined {
  const med = (c: number[] | string | undefined): number | undefined =>
    Array.isArray(c) && c.length ? median(c) : undefined;
  if (!rows.some((r) => med(r.cells['snakepit-msgpack']) !== undefined)) return undefined;
  const behind: string[] = [];
  for (const r of rows) {
    const mine = med(r.cells['snakepit-msgpack']);
    if (mine === undefined) continue;
    const beaten = peers.filter((p) => {
      const theirs = med(r.cells[p]);
      // Within 5 % is level: the rounds' own spread on this VM is wider than that.
      return theirs !== undefined && (r.better === 'lower' ? theirs < mine * 0.95 : theirs > mine * 1.05);
    });
    if (beaten.length) behind.push(`${r.label} (${beaten.join(', ')})`);
  }
  return behind;
}

function updatePerformanceDoc(parts: {
  info: Record<string, string>;
  loads: number[];
  table: string;
  robustTable: string;
  targets: string;
  skipped: Record<string, string>;
  file: string;
}): void {
  const path = join(ROOT, 'docs', 'PERFORMANCE.md');
  const START = '<!-- bench:latest:start -->';
  const END = '<!-- bench:latest:end -->';
  const skipped = Object.entries(parts.skipped).map(([id, why]) => `- ${id} was not measured: ${why}`);
  const section = [
    START,
    `## Latest run — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `Machine: ${parts.info['cpu']}, ${parts.info['memory']} (memory bandwidth ${parts.info['memory bandwidth']}); ` +
      `Node ${parts.info['node']}; Python ${parts.info['python']}. ` +
      `${ROUNDS} interleaved rounds, ${WORKERS} workers where a system has workers; median (min–max) over rounds; ` +
      `load average before each system's round: ${Math.min(...parts.loads).toFixed(2)}–${Math.max(...parts.loads).toFixed(2)}. ` +
      `Best per row in bold. Raw samples: \`${parts.file}\` (not committed; rerun with \`npm run bench\`).`,
    ...(skipped.length ? ['', ...skipped] : []),
    '',
    '![bench chart](bench-latest.svg)',
    '',
    parts.table,
    '',
    '### Robustness (observed by the harness in the same run)',
    '',
    parts.robustTable,
    '',
    '### Targets',
    '',
    parts.targets,
    END,
  ].join('\n');
  const doc = existsSync(path) ? readFileSync(path, 'utf8') : '# Performance\n';
  const next = doc.includes(START)
    ? doc.replace(new RegExp(`${START}[\\s\\S]*?${END}`), section)
    : `${doc.trimEnd()}\n\n${section}\n`;
  writeFileSync(path, next);
}

await main();
