/**
 * Checks of the host side: Node's version, that loopback TCP ports and Unix sockets can be opened, and how a pool's
 * `limits` would be enforced here.
 */
import { createServer, type Server } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cgroupProbe } from '../limits/cgroup.js';
import type { DoctorCheck } from './doctor-types.js';

const MIN_NODE_MAJOR = 20;

export function checkNode(): DoctorCheck {
  const major = Number(process.versions.node.split('.')[0]);
  if (major >= MIN_NODE_MAJOR) return { id: 'node', status: 'ok', message: `Node.js ${process.version}` };
  return {
    id: 'node',
    status: 'fail',
    message: `Node.js ${process.version} is too old; snakepit needs ${MIN_NODE_MAJOR} or newer`,
    fix: `install Node.js ${MIN_NODE_MAJOR} or newer (e.g. with nvm: \`nvm install ${MIN_NODE_MAJOR}\`)`,
  };
}

function listen(server: Server, target: { port: number; host: string } | string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    if (typeof target === 'string') server.listen(target, () => resolve());
    else server.listen(target.port, target.host, () => resolve());
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A loopback TCP port (remote workers, gRPC) and a Unix socket in the temp directory can be opened. */
export async function checkSockets(): Promise<DoctorCheck> {
  const problems: string[] = [];
  const tcp = createServer();
  let port = 0;
  try {
    await listen(tcp, { port: 0, host: '127.0.0.1' });
    const address = tcp.address();
    port = typeof address === 'object' && address ? address.port : 0;
  } catch (err) {
    problems.push(`cannot listen on a loopback TCP port: ${(err as Error).message}`);
  } finally {
    await close(tcp);
  }
  const dir = mkdtempSync(join(tmpdir(), 'snakepit-doctor-'));
  const unix = createServer();
  try {
    await listen(unix, join(dir, 's.sock'));
  } catch (err) {
    problems.push(`cannot create a Unix socket in ${tmpdir()}: ${(err as Error).message}`);
  } finally {
    await close(unix);
    rmSync(dir, { recursive: true, force: true });
  }
  if (problems.length === 0) {
    return { id: 'sockets', status: 'ok', message: `loopback TCP (got port ${port}) and Unix sockets work` };
  }
  return {
    id: 'sockets',
    status: 'fail',
    message: problems.join('; '),
    fix: 'allow local sockets (a sandbox or seccomp profile may forbid them), or set TMPDIR to a writable directory',
  };
}

/** How `limits.memoryMb` is enforced on this machine: rlimits and the sampler, plus a cgroup where one is usable. */
export function checkLimits(): DoctorCheck {
  if (process.platform !== 'linux') {
    return {
      id: 'limits',
      status: 'warn',
      message: `limits.memoryMb is not enforced on ${process.platform} (RLIMIT_DATA and /proc are Linux's)`,
      fix: 'run memory-hungry pools on Linux, or bound them with recycle.maxRssMb and your platform’s tools',
    };
  }
  let ignored = false;
  try {
    ignored = readFileSync('/sys/module/kernel/parameters/ignore_rlimit_data', 'utf8').trim() === 'Y';
  } catch {
    /* the parameter is not exposed: the kernel enforces RLIMIT_DATA */
  }
  const cgroup = cgroupProbe();
  const how = cgroup.usable ? `a cgroup per worker under ${cgroup.parent}` : `no cgroup: ${cgroup.reason}`;
  if (ignored) {
    return {
      id: 'limits',
      status: 'warn',
      message: `the kernel ignores RLIMIT_DATA (ignore_rlimit_data): limits.memoryMb relies on the sampler; ${how}`,
      fix: 'remove ignore_rlimit_data from the kernel command line',
    };
  }
  return { id: 'limits', status: 'ok', message: `limits.memoryMb: RLIMIT_DATA and a sampler; ${how}` };
}
