/**
 * A strict reader of the Prometheus text exposition format (0.0.4), for tests: it throws on anything a
 * Prometheus server would reject or that breaks the format's rules, and returns the samples.
 *
 * Checked: line syntax (HELP, TYPE, samples, blank lines), metric and label names, label value escapes, one
 * TYPE and at most one HELP per family, given before its samples, samples grouped by family, no duplicate
 * series, counters ≥ 0, and for histograms: `le` on every bucket, buckets in increasing `le`, cumulative
 * counts that never decrease, a `+Inf` bucket equal to `_count`, and `_sum`/`_count` per series.
 */

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PromText {
  types: Map<string, string>;
  help: Map<string, string>;
  samples: PromSample[];
  /** The value of the one sample with this name and these labels (exactly), or undefined. */
  value(name: string, labels?: Record<string, string>): number | undefined;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(text: string, line: number): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text))
    throw new Error(`line ${line}: bad value "${text}"`);
  return Number(text);
}

function parseLabels(body: string, line: number): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < body.length) {
    const eq = body.indexOf('=', i);
    if (eq < 0) throw new Error(`line ${line}: label without "="`);
    const name = body.slice(i, eq).trim();
    if (!LABEL_NAME.test(name)) throw new Error(`line ${line}: bad label name "${name}"`);
    if (name in labels) throw new Error(`line ${line}: label "${name}" twice`);
    if (body[eq + 1] !== '"') throw new Error(`line ${line}: label value of "${name}" is not quoted`);
    let j = eq + 2;
    let value = '';
    for (; j < body.length && body[j] !== '"'; j++) {
      if (body[j] === '\\') {
        const next = body[++j];
        if (next === 'n') value += '\n';
        else if (next === '\\' || next === '"') value += next;
        else throw new Error(`line ${line}: bad escape "\\${next}" in label "${name}"`);
      } else if (body[j] === '\n') {
        throw new Error(`line ${line}: raw newline in label value`);
      } else value += body[j];
    }
    if (body[j] !== '"') throw new Error(`line ${line}: unterminated label value of "${name}"`);
    labels[name] = value;
    i = j + 1;
    if (body[i] === ',') i++;
    else if (i < body.length) throw new Error(`line ${line}: expected "," after label "${name}"`);
  }
  return labels;
}

/** The family a sample belongs to: a histogram's `_bucket`/`_sum`/`_count` belong to their base name. */
function familyOf(name: string, types: Map<string, string>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      if (types.get(base) === 'histogram' || types.get(base) === 'summary') return base;
    }
  }
  return name;
}

export function parsePrometheusText(text: string): PromText {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const samples: PromSample[] = [];
  const seenSeries = new Set<string>();
  const closedFamilies = new Set<string>();
  let current: string | undefined;
  const lines = text.split('\n');
  lines.pop();
  lines.forEach((raw, idx) => {
    const line = idx + 1;
    if (raw.trim() === '') return;
    if (raw.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(raw);
      if (!m) return; // a comment
      const [, kind, name, rest = ''] = m;
      if (!METRIC_NAME.test(name!)) throw new Error(`line ${line}: bad metric name "${name}"`);
      if (kind === 'TYPE') {
        if (types.has(name!)) throw new Error(`line ${line}: second TYPE for ${name}`);
        if (!TYPES.has(rest)) throw new Error(`line ${line}: unknown type "${rest}"`);
        if (samples.some((s) => familyOf(s.name, types) === name))
          throw new Error(`line ${line}: TYPE for ${name} after its samples`);
        types.set(name!, rest);
      } else {
        if (help.has(name!)) throw new Error(`line ${line}: second HELP for ${name}`);
        help.set(name!, rest);
      }
      return;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(raw);
    if (!m) throw new Error(`line ${line}: not a sample: ${raw}`);
    const [, name, labelBody, valueText] = m;
    const labels = labelBody ? parseLabels(labelBody, line) : {};
    const value = parseValue(valueText!, line);
    const family = familyOf(name!, types);
    if (!types.has(family))
      throw new Error(`line ${line}: sample of ${family} without a TYPE line before it`);
    if (family !== current) {
      if (closedFamilies.has(family)) throw new Error(`line ${line}: samples of ${family} are not grouped`);
      if (current) closedFamilies.add(current);
      current = family;
    }
    const key = `${name}{${Object.entries(labels)
      .sort()
      .map(([k, v]) => `${k}=${v}`)
      .join(',')}}`;
    if (seenSeries.has(key)) throw new Error(`line ${line}: duplicate series ${key}`);
    seenSeries.add(key);
    if (types.get(family) === 'counter' && !(value >= 0))
      throw new Error(`line ${line}: counter ${name} < 0`);
    samples.push({ name: name!, labels, value });
  });
  checkHistograms(types, samples);
  return {
    types,
    help,
    samples,
    value(name, labels = {}) {
      const want = JSON.stringify(Object.entries(labels).sort());
      return samples.find((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want)
        ?.value;
    },
  };
}

function checkHistograms(types: Map<string, string>, samples: PromSample[]): void {
  for (const [family, type] of types) {
    if (type !== 'histogram') continue;
    const series = new Map<string, { buckets: Array<[number, number]>; sum?: number; count?: number }>();
    const keyOf = (labels: Record<string, string>): string =>
      JSON.stringify(
        Object.entries(labels)
          .filter(([k]) => k !== 'le')
          .sort(),
      );
    for (const s of samples) {
      if (familyOf(s.name, types) !== family) continue;
      const key = keyOf(s.labels);
      let entry = series.get(key);
      if (!entry) series.set(key, (entry = { buckets: [] }));
      if (s.name === `${family}_bucket`) {
        if (s.labels['le'] === undefined) throw new Error(`${family}_bucket without le`);
        entry.buckets.push([parseValue(s.labels['le'], 0), s.value]);
      } else if (s.name === `${family}_sum`) entry.sum = s.value;
      else if (s.name === `${family}_count`) entry.count = s.value;
      else throw new Error(`${s.name}: not a histogram sample of ${family}`);
    }
    for (const [key, entry] of series) {
      if (entry.count === undefined || entry.sum === undefined)
        throw new Error(`${family}${key}: no _sum/_count`);
      const les = entry.buckets.map(([le]) => le);
      if (les.at(-1) !== Infinity) throw new Error(`${family}${key}: no +Inf bucket`);
      for (let i = 1; i < entry.buckets.length; i++) {
        if (!(les[i]! > les[i - 1]!)) throw new Error(`${family}${key}: le not increasing at ${les[i]}`);
        if (entry.buckets[i]![1] < entry.buckets[i - 1]![1])
          throw new Error(`${family}${key}: cumulative count decreases at le=${les[i]}`);
      }
      if (entry.buckets.at(-1)![1] !== entry.count)
        throw new Error(`${family}${key}: +Inf bucket ${entry.buckets.at(-1)![1]} != _count ${entry.count}`);
    }
  }
}
