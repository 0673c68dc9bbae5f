#!/usr/bin/env node
/**
 * Entry of the Node.js worker runtime: `node main.js --module ./tools.js [--channel-fd 3]`. The host starts it
 * for a pool with `runtime: "node"`; the channel is the socket at `--channel-fd` (else SNAKEPIT_CHANNEL_FD, else 3).
 * Exit codes follow PROTOCOL.md §1.2: 2 bad arguments, 3 the module failed to import or initialize, 4 a protocol
 * error from the host, 5 the host's heartbeats stopped, 0 otherwise.
 */
import { Socket } from 'node:net';
import { NodeWorker } from './node-worker.js';

function usage(problem: string): never {
  process.stderr.write(`snakepit node worker: ${problem}\nusage: main.js --module PATH [--channel-fd N]\n`);
  process.exit(2);
}

function parse(argv: string[]): { module: string; fd: number } {
  let module = process.env['SNAKEPIT_NODE_MODULE'];
  let fd = process.env['SNAKEPIT_CHANNEL_FD'] ?? '3';
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === '--module' && value !== undefined) module = value;
    else if (flag === '--channel-fd' && value !== undefined) fd = value;
    else usage(`unknown argument ${JSON.stringify(flag)}`);
    i++;
  }
  if (!module) usage('--module is required');
  if (!/^\d+$/.test(fd) || Number(fd) < 3) usage(`--channel-fd must be a descriptor of 3 or more, got ${fd}`);
  return { module, fd: Number(fd) };
}

const { module, fd } = parse(process.argv.slice(2));
let socket: Socket;
try {
  socket = new Socket({ fd, readable: true, writable: true });
} catch (err) {
  usage(`descriptor ${fd} is not a socket: ${(err as Error).message}`);
}
new NodeWorker({
  module,
  socket,
  workerId: process.env['SNAKEPIT_WORKER_ID'],
  runId: process.env['SNAKEPIT_RUN_ID'],
}).start();
