/** Checks of the host side: Node's version, and that loopback TCP ports and Unix sockets can be opened. */
import { createServer, type Server } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
