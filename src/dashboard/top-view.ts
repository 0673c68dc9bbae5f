/**
 * `snakepit top`'s screen: a DashboardSnapshot as lines of text that fit a terminal of `columns` × `rows`.
 * Pure (no terminal I/O), so it is tested on its own; top-command.ts writes the lines in place.
 *
 * Every string that came from a worker or a caller (error messages, tracebacks, tool and session names) passes
 * `printable` first: a control character or escape sequence in it must not move the cursor, recolour or retitle
 * the operator's terminal.
 */
import type { DashboardSnapshot, ErrorEntry, HistoryPoint } from './dashboard-types.js';

export interface TopLine {
  text: string;
  /** How the whole line is drawn. */
  style?: 'title' | 'header' | 'dim' | 'bad' | 'warn';
}

export interface TopViewOptions {
  columns: number;
  rows: number;
  /** Where the view is attached (shown in the title). */
  source: string;
  /** `live`, or why it is not (`reconnecting: ...`). */
  status: string;
  /** The key help line at the bottom (interactive screens only). */
  footer?: boolean;
}

const SPARK = '▁▂▃▄▅▆▇█';
const WORKER_COLUMNS = [
  'WORKER',
  'STATE',
  'PID',
  'PROFILE',
  'LOAD',
  'RSS MiB',
  'UPTIME',
  'REQUESTS',
  'RESTARTS',
  'RECYCLES',
];

/** `text` with control characters (C0, DEL, C1), bidi overrides and line breaks made harmless. */
export function printable(text: string): string {
  return (
    text
      .replace(/\r\n|\r|\n/g, ' ⏎ ')
      .replace(/\t/g, ' ')
      // eslint-disable-next-line no-control-regex -- matching control characters is the point
      .replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '�')
  );
}

/** The screen, top to bottom; every line at most `columns` characters, at most `rows` lines. */
export function renderTop(snapshot: DashboardSnapshot, options: TopViewOptions): TopLine[] {
  const { columns, rows } = options;
  const h = snapshot.host;
  const lines: TopLine[] = [];
  const clock = new Date(snapshot.at).toTimeString().slice(0, 8);
  lines.push({
    text: `snakepit top · ${options.source} · ${clock} · ${options.status}`,
    style: options.status === 'live' ? 'title' : 'warn',
  });
  lines.push({
    text: `${printable(h.hostname)} pid ${h.pid} · run ${printable(h.runId)} · node ${h.node} · host RSS ${h.rssMb.toFixed(1)} MiB · up ${duration(h.uptimeMs)}`,
    style: 'dim',
  });
  const sparkWidth = Math.max(10, Math.min(60, columns - 30));
  for (const pool of snapshot.pools) {
    const s = pool.stats;
    const last = pool.history[pool.history.length - 1];
    lines.push({ text: '' });
    lines.push({
      text:
        `pool ${printable(pool.name)} [${printable(pool.state)}]  workers ${s.available + s.busy} (busy ${s.busy})  ` +
        `queued ${s.queued}  in flight ${s.inFlight}  calls/s ${last ? rate(last.calls) : '-'}  ` +
        `requests ${s.requests}  errors ${s.errors}  timeouts ${s.timeouts}  restarts ${s.restarts}  ` +
        `recycles ${s.recycles}  p50 ${ms(pool.latency.p50)}  p99 ${ms(pool.latency.p99)}`,
      style: pool.state === 'ready' ? undefined : 'bad',
    });
    const window = `last ${duration(pool.history.length > 0 ? snapshot.at - pool.history[0]!.t + snapshot.intervalMs : 0)}`;
    lines.push({
      text: `  calls/s ${sparkline(pool.history, (p) => p.calls, sparkWidth)}  max ${rate(maxOf(pool.history, (p) => p.calls))}  (${window})`,
    });
    lines.push({
      text: `  queued  ${sparkline(pool.history, (p) => p.queued, sparkWidth)}  max ${maxOf(pool.history, (p) => p.queued)}`,
    });
    lines.push({
      text: `  p99     ${sparkline(pool.history, (p) => p.p99, sparkWidth)}  max ${ms(maxOf(pool.history, (p) => p.p99))}`,
    });
    const [head, ...body] = table(
      WORKER_COLUMNS,
      pool.workers.map((w) => [
        printable(w.id),
        printable(w.state),
        w.pid === undefined ? '-' : String(w.pid),
        printable(w.profile),
        String(w.load),
        w.rssMb === undefined ? '-' : w.rssMb.toFixed(1),
        duration(w.uptimeMs),
        String(w.served),
        String(w.restarts),
        String(w.recycles),
      ]),
    );
    lines.push({ text: head!, style: 'header' });
    for (const text of body) lines.push({ text });
  }
  const ss = snapshot.sessions.stats;
  lines.push({ text: '' });
  lines.push({
    text: `sessions ${ss.active} active · ${ss.created} created · ${ss.expired} expired · ${ss.deleted} deleted`,
  });
  // Errors fill what room is left; the newest first.
  const footer = options.footer ? 1 : 0;
  const room = rows - lines.length - 1 - footer;
  if (room >= 2) {
    lines.push({ text: `recent errors (${snapshot.errors.length})`, style: 'header' });
    lines.push(...errorLines(snapshot.errors, room - 1, columns));
  }
  const out = lines.slice(0, Math.max(1, rows - footer));
  if (footer) out.push({ text: 'q quit', style: 'dim' });
  return out.map((l) => ({ ...l, text: fit(l.text, columns) }));
}

function errorLines(errors: ErrorEntry[], room: number, columns: number): TopLine[] {
  const out: TopLine[] = [];
  if (errors.length === 0) return [{ text: '  none', style: 'dim' }];
  for (const [i, e] of errors.entries()) {
    if (out.length >= room) break;
    const at = new Date(e.at).toTimeString().slice(0, 8);
    out.push({
      text: `  ${at} ${printable(e.errorName)} ${printable(e.pool)}/${printable(e.tool)}${e.worker ? ` on ${printable(e.worker)}` : ''}: ${printable(e.message)}`,
      style: 'bad',
    });
    // The newest error's traceback, its last lines (where the exception is), as room allows.
    if (i === 0 && e.traceback) {
      const tb = e.traceback.split(/\r\n|\r|\n/).filter((l) => l.trim() !== '');
      const take = Math.min(tb.length, Math.max(0, room - out.length - Math.min(errors.length - 1, 3)), 8);
      for (const l of tb.slice(tb.length - take))
        out.push({ text: fit(`      ${printable(l)}`, columns), style: 'dim' });
    }
  }
  return out;
}

/** Columns padded to their widest cell; the first two left-aligned (names), the rest right-aligned. */
function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    `  ${cells.map((c, i) => (i < 2 || i === 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}`;
  return [line(head), ...rows.map(line)];
}

function sparkline(points: HistoryPoint[], value: (p: HistoryPoint) => number | null, width: number): string {
  const values = points.slice(-width).map(value);
  const max = Math.max(0, ...values.map((v) => v ?? 0));
  const chars = values.map((v) => {
    if (v === null) return ' ';
    if (max === 0) return SPARK[0];
    return SPARK[Math.min(SPARK.length - 1, Math.floor((v / max) * (SPARK.length - 1) + 0.5))];
  });
  return chars.join('').padStart(width, ' ');
}

function maxOf(points: HistoryPoint[], value: (p: HistoryPoint) => number | null): number {
  return Math.max(0, ...points.map((p) => value(p) ?? 0));
}

function fit(text: string, columns: number): string {
  const chars = Array.from(text);
  return chars.length <= columns ? text : `${chars.slice(0, Math.max(0, columns - 1)).join('')}…`;
}

function ms(v: number): string {
  if (v < 1) return `${Math.round(v * 1000)} µs`;
  if (v < 100) return `${v.toFixed(1)} ms`;
  if (v < 10_000) return `${Math.round(v)} ms`;
  return `${(v / 1000).toFixed(1)} s`;
}

function rate(v: number): string {
  return v >= 100 ? String(Math.round(v)) : v.toFixed(1);
}

function duration(v: number): string {
  const s = Math.max(0, Math.floor(v / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86_400)}d${String(Math.floor((s % 86_400) / 3600)).padStart(2, '0')}h`;
}
