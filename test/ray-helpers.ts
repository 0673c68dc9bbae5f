/**
 * A local Ray cluster for tests: `ray start --head` (and, for two nodes, `ray start --address` beside it) on this
 * machine, with ports, a temp dir and a small object store of its own, so it neither meets another cluster on
 * this machine nor takes a big share of /dev/shm. `stop()` ends exactly the processes these commands started
 * (found by the cluster's temp dir in their command lines, and their descendants), never another cluster's.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { TEST_PYTHON as PYTHON } from './grpc-helpers.js';
import { requireOptional } from './helpers.js';

export interface LocalRay {
  /** `127.0.0.1:port` of the head's GCS: what `backend.address` takes. */
  address: string;
  tempDir: string;
  /** Every live process of this cluster (the head's and the extra nodes' services, workers, actors). */
  pids(): number[];
  stop(): Promise<void>;
}

let rayChecked: boolean | undefined;

/** Whether the test interpreter can import `ray`. */
function rayInstalled(): boolean {
  rayChecked ??= spawnSync(PYTHON, ['-c', 'import ray'], { stdio: 'ignore', timeout: 60_000 }).status === 0;
  return rayChecked;
}

/**
 * Whether the Ray tests can run: `ray` importable. Missing, it is a printed skip, or a failure under
 * SNAKEPIT_REQUIRE_OPTIONAL=1 — except on a Python other than 3.11, where `setup --dev` does not install it (its
 * wheels on CI's mirror are for 3.11 only): a skip that says so, as CI cannot do better there.
 */
export function rayAvailable(): boolean {
  if (rayInstalled()) return true;
  const version = spawnSync(PYTHON, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], {
    encoding: 'utf8',
  }).stdout.trim();
  if (version !== '3.11') {
    console.warn(
      `skipping: ray (Ray backend) is missing; \`snakepit setup --dev\` installs it on Python 3.11 only, and ${PYTHON} is ${version}`,
    );
    return false;
  }
  return requireOptional(false, 'ray (Ray backend)');
}

function rayCli(): string {
  return join(PYTHON, '..', 'ray');
}

export interface NodeSpec {
  numCpus: number;
  resources?: Record<string, number>;
}

export interface ClusterOptions {
  /** Directories the cluster's Python processes import from (PYTHONPATH of every node). */
  pythonPath?: string[];
}

/** Start a head (and `extra` nodes) on this machine; resolves when all have joined. */
export async function startLocalRay(
  head: NodeSpec,
  extra: NodeSpec[] = [],
  options: ClusterOptions = {},
): Promise<LocalRay> {
  try {
    return await startOnce(head, extra, options);
  } catch (err) {
    // A port of the random range taken meanwhile, or `ray start` slow on a loaded machine: once more, elsewhere.
    console.warn(`a local Ray did not start, trying other ports: ${(err as Error).message.slice(0, 500)}`);
    return startOnce(head, extra, options);
  }
}

async function startOnce(head: NodeSpec, extra: NodeSpec[], options: ClusterOptions): Promise<LocalRay> {
  const tempDir = mkdtempSync('/tmp/spray-'); // short: Ray's socket paths live under it
  const base = 20_000 + Math.floor(Math.random() * 400) * 100;
  let next = base;
  const port = (): number => next++;
  const gcsPort = port();
  const address = `127.0.0.1:${gcsPort}`;
  const common = (spec: NodeSpec): string[] => [
    '--num-cpus',
    String(spec.numCpus),
    '--resources',
    JSON.stringify(spec.resources ?? {}),
    '--object-store-memory',
    String(80 * 1024 * 1024),
    '--node-ip-address',
    '127.0.0.1',
    '--node-manager-port',
    String(port()),
    '--object-manager-port',
    String(port()),
    '--dashboard-agent-listen-port',
    String(port()),
    '--dashboard-agent-grpc-port',
    String(port()),
    '--runtime-env-agent-port',
    String(port()),
    '--metrics-export-port',
    String(port()),
    '--min-worker-port',
    String((next += 30) - 30),
    '--max-worker-port',
    String(next - 1),
    '--disable-usage-stats',
  ];
  const env = {
    ...process.env,
    RAY_USAGE_STATS_ENABLED: '0',
    RAY_DISABLE_DOCKER_CPU_WARNING: '1',
    ...(options.pythonPath ? { PYTHONPATH: options.pythonPath.join(':') } : {}),
  };
  const run = (args: string[]): Promise<void> =>
    new Promise((resolve, reject) => {
      const child = spawn(rayCli(), args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.on('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`ray ${args[0]} exited ${code}: ${out.slice(-2000)}`)),
      );
    });
  const cluster: LocalRay = {
    address,
    tempDir,
    pids: () => clusterPids(tempDir),
    stop: async () => {
      for (let round = 0; round < 3; round++) {
        const pids = clusterPids(tempDir);
        if (pids.length === 0) break;
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      rmSync(tempDir, { recursive: true, force: true });
    },
  };
  try {
    await run([
      'start',
      '--head',
      '--port',
      String(gcsPort),
      '--ray-client-server-port',
      String(port()),
      '--include-dashboard',
      'false',
      '--temp-dir',
      tempDir,
      ...common(head),
    ]);
    for (const spec of extra) await run(['start', '--address', address, ...common(spec)]);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

/** The processes whose command line names `tempDir`, and all their descendants. */
export function clusterPids(tempDir: string): number[] {
  const parent = new Map<number, number>();
  const roots: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      parent.set(pid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(tempDir)) roots.push(pid);
    } catch {
      /* gone */
    }
  }
  const found = new Set(roots);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of parent) {
      if (!found.has(pid) && found.has(ppid)) {
        found.add(pid);
        grew = true;
      }
    }
  }
  return [...found];
}

/** The Ray driver processes `parent` spawned (a host's pools share one per cluster). */
export function driverPids(parent: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (
        ppid === parent &&
        readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('snakepit_bridge.ray.driver')
      )
        found.push(pid);
    } catch {
      /* gone */
    }
  }
  return found;
}

/** Whether a process is alive (a zombie counts as gone). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

export const RAY_PROBE = 'snakepit_fixtures.ray_probe:RayProbeAdapter';

export interface Where {
  pid: number;
  ppid: number;
  node: string;
  actor: string;
}
