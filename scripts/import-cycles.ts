/**
 * Import cycles in src/ and python/snakepit_bridge/: builds both import graphs and lists every cycle, and every
 * import in src/ that breaks a layering rule (LAYER_RULES, the "Layers" of docs/ARCHITECTURE.md).
 *
 * Every import counts: static `import`, `import type`, `export … from`, dynamic `import()`; on the Python side
 * also function-local imports (a local import that dodges a cycle at run time is still a cycle in the design).
 * Run `npx tsx scripts/import-cycles.ts` to print them; test/unit/import-cycles.test.ts keeps both counts at zero.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export type Graph = Map<string, string[]>;

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...sourceFiles(full));
    else if (/\.(ts|mts)$/.test(entry) && !entry.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

/** Resolves a relative specifier (`./x.js`, `../y/index.js`) to a source file under the graph's root. */
function resolveSpecifier(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = resolve(dirname(from), spec);
  const candidates = [
    base.replace(/\.js$/, '.ts'),
    base.replace(/\.mjs$/, '.mts'),
    `${base}.ts`,
    join(base, 'index.ts'),
  ];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile());
}

/** The import graph of the TypeScript sources under `dir` (paths relative to the repository root). */
export function typescriptGraph(dir = join(ROOT, 'src')): Graph {
  const graph: Graph = new Map();
  for (const file of sourceFiles(dir)) {
    // preProcessFile reports every module reference: imports (type-only too), re-exports and import() calls.
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = new Set<string>();
    for (const ref of info.importedFiles) {
      const target = resolveSpecifier(file, ref.fileName);
      if (target && target !== file) targets.add(relative(ROOT, target));
    }
    graph.set(relative(ROOT, file), [...targets].sort());
  }
  return graph;
}

/** The import graph of the Python bridge, drawn by scripts/python_import_graph.py (stdlib `ast`, any python3). */
export function pythonGraph(pkg = join(ROOT, 'python', 'snakepit_bridge'), python = 'python3'): Graph {
  const run = spawnSync(python, [join(ROOT, 'scripts', 'python_import_graph.py'), pkg], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`python_import_graph.py failed: ${run.stderr || run.error?.message}`);
  return new Map(Object.entries(JSON.parse(run.stdout) as Record<string, string[]>));
}

/** The strongly connected components with more than one node (Tarjan), each as a sorted list: the cycles. */
export function cycles(graph: Graph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, next);
    low.set(node, next);
    next++;
    stack.push(node);
    onStack.add(node);
    for (const to of graph.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (onStack.has(to)) {
        low.set(node, Math.min(low.get(node)!, index.get(to)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);
  return found;
}

/**
 * A layering rule of docs/ARCHITECTURE.md ("Layers"): files under `from` (path prefixes; minus `exceptFrom`) import
 * nothing under `forbidden`, or, with `onlyTo`, nothing outside it.
 */
export interface LayerRule {
  rule: string;
  from: string[];
  exceptFrom?: string[];
  forbidden?: string[];
  onlyTo?: string[];
}

export const LAYER_RULES: LayerRule[] = [
  {
    rule: 'only the link registry reaches a transport (config checks their keys; index.ts exports their helpers)',
    from: ['src/'],
    exceptFrom: [
      'src/remote/',
      'src/interop/',
      'src/ray/',
      'src/pool/link-registry.ts',
      'src/config/',
      'src/index.ts',
    ],
    forbidden: ['src/remote/', 'src/interop/', 'src/ray/'],
  },
  {
    rule: 'a worker, a call and the wire below them know no pool, session, telemetry, transport kind or facade',
    from: ['src/worker/', 'src/call/', 'src/transport/', 'src/protocol/', 'src/errors/', 'src/util/'],
    forbidden: [
      'src/pool/',
      'src/session/',
      'src/telemetry/',
      'src/remote/',
      'src/interop/',
      'src/ray/',
      'src/dashboard/',
      'src/cli/',
      'src/snakepit.ts',
      'src/index.ts',
    ],
  },
  {
    rule: 'PoolSupervisor sees its pool only through SupervisorHost',
    from: ['src/pool/pool-supervisor.ts'],
    forbidden: ['src/pool/pool.ts'],
  },
  {
    rule: 'the Node runtime runs in the worker process: it imports nothing of the host',
    from: ['src/runtimes/node/'],
    onlyTo: ['src/runtimes/node/'],
  },
];

const under = (file: string, prefixes: string[] | undefined): boolean =>
  prefixes?.some((p) => file === p || (p.endsWith('/') && file.startsWith(p))) ?? false;

/** Every import that breaks a rule, as `rule: from → to`. */
export function layerViolations(graph: Graph, rules: LayerRule[] = LAYER_RULES): string[] {
  const out: string[] = [];
  for (const [from, targets] of graph) {
    for (const r of rules) {
      if (!under(from, r.from) || under(from, r.exceptFrom)) continue;
      for (const to of targets) {
        if (under(to, r.forbidden) || (r.onlyTo && !under(to, r.onlyTo)))
          out.push(`${r.rule}: ${from} → ${to}`);
      }
    }
  }
  return out;
}

/** One shortest path around a cycle inside `component`, for a readable message (a → b → a). */
export function describeCycle(graph: Graph, component: string[]): string {
  const inside = new Set(component);
  const start = component[0]!;
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift()!;
    for (const to of graph.get(node) ?? []) {
      if (!inside.has(to)) continue;
      if (to === start) {
        const path = [start];
        for (let at = node; at !== start; at = prev.get(at)!) path.splice(1, 0, at);
        return [...path, start].join(' → ');
      }
      if (!prev.has(to)) {
        prev.set(to, node);
        queue.push(to);
      }
    }
  }
  return component.join(', ');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let failed = false;
  for (const [name, graph] of [
    ['src/', typescriptGraph()],
    ['python/snakepit_bridge/', pythonGraph()],
  ] as const) {
    const found = cycles(graph);
    for (const c of found)
      console.log(`${name}: ${c.length} modules: ${describeCycle(graph, c)}\n    ${c.join('\n    ')}`);
    if (found.length > 0) failed = true;
    else console.log(`${name}: no import cycles`);
  }
  const broken = layerViolations(typescriptGraph());
  for (const line of broken) console.log(line);
  if (broken.length > 0) failed = true;
  else console.log('src/: the layers hold');
  process.exit(failed ? 1 : 0);
}
