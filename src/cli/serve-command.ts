/**
 * `snakepit serve --grpc HOST:PORT`: an endpoint remote hosts attach to (transport "grpc"). The server is the
 * bridge's own (`python -m snakepit_bridge serve`); this command runs it the way a pool runs its workers: the
 * interpreter resolved as for pools, the bundled bridge and the adapter's folders on PYTHONPATH, the adapter
 * from --adapter or the config file. Signals are passed on, and its exit code is this command's.
 */
import type { Command } from 'commander';
import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import type { PoolConfig } from '../config/config-types.js';
import { ConfigError, PythonEnvError } from '../errors/errors.js';
import { bridgeDirectory } from '../python-env/bridge-path.js';
import { resolvePython } from '../python-env/interpreter.js';
import { addTargetOptions, loadTarget, type TargetFlags } from './cli-config.js';
import { reportError } from './output.js';

interface ServeFlags extends TargetFlags {
  grpc: string;
  maxWorkers?: string;
  codec?: string;
  tokenFile?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
  insecure?: boolean;
  readyFile?: string;
}

/** The server's own options, passed through as given (it checks them: exposure rules, TLS pairs, ...). */
const PASSED: Array<[keyof ServeFlags, string]> = [
  ['maxWorkers', '--max-workers'],
  ['codec', '--codec'],
  ['tokenFile', '--token-file'],
  ['tlsCert', '--tls-cert'],
  ['tlsKey', '--tls-key'],
  ['tlsClientCa', '--tls-client-ca'],
  ['readyFile', '--ready-file'],
];

export function registerServe(program: Command): void {
  const command = program
    .command('serve')
    .summary('serve an adapter to remote hosts over gRPC')
    .description(
      "Serve an adapter's tools to remote snakepit hosts over gRPC (their transport: 'grpc'): each stream a " +
        'host opens runs one worker process. Needs grpcio and protobuf in the interpreter ' +
        '(npx snakepit setup grpcio protobuf). Off loopback it refuses to start without TLS and a token.',
    )
    .requiredOption('--grpc <host:port>', 'address to listen on (port 0: any free port; see --ready-file)')
    .option('--max-workers <n>', 'most worker processes at once (default: CPU count)')
    .option('--codec <codec>', 'auto, msgpack or json')
    .option(
      '--token-file <file>',
      'file whose first line is the token hosts must present (else $SNAKEPIT_GRPC_TOKEN)',
    )
    .option('--tls-cert <pem>', 'certificate chain of this server')
    .option('--tls-key <pem>', 'private key of this server')
    .option('--tls-client-ca <pem>', 'require hosts to present a client certificate this CA signed')
    .option('--insecure', 'allow a non-loopback address without TLS and a token (not recommended)')
    .option('--ready-file <file>', 'once listening, write the bound port to this file')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  npx snakepit serve --grpc 127.0.0.1:50051 --adapter my_tools:Tools --python-path .\n' +
        '  npx snakepit serve --grpc 0.0.0.0:50051 --tls-cert tls.crt --tls-key tls.key --token-file token\n' +
        '      (the adapter of ./snakepit.config.json)\n',
    );
  addTargetOptions(command).action(async (flags: ServeFlags) => {
    try {
      const code = await serve(flags, process.cwd());
      process.exitCode = code;
    } catch (err) {
      reportError(err);
    }
  });
}

async function serve(flags: ServeFlags, cwd: string): Promise<number> {
  const target = await loadTarget(flags, cwd);
  const pool = (target?.config.pools?.[0] ?? target?.config) as PoolConfig | undefined;
  if (!pool?.adapter) {
    throw new ConfigError(
      '--adapter',
      target
        ? `pool "${target.pool}" has no adapter to serve (a libraries-only pool cannot be served yet)`
        : 'nothing to serve: give --adapter module:Class, or run where a snakepit.config file names one',
    );
  }
  const python = target!.config.python;
  const interpreter = resolvePython(python?.executable, {
    cwd,
    ...(python?.strategy ? { strategy: python.strategy } : {}),
    ...(python?.version ? { version: python.version } : {}),
  }).executable;
  const pythonPath = [
    bridgeDirectory(python?.bridgePath),
    ...(pool.pythonPath ?? []).map((p) => resolve(cwd, p)),
    process.env['PYTHONPATH'] ?? '',
  ].filter(Boolean);
  // The whole environment, as if the server were run by hand: it needs $SNAKEPIT_GRPC_TOKEN, and it keeps secrets
  // from its own workers itself (SNAKEPIT_PASS_ENV names the ones they may have). SNAKEPIT_SERVE_PARENT makes it
  // stop when this process is gone, even killed with SIGKILL: no server outlives the command that started it.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PYTHONPATH: pythonPath.join(':'),
    PYTHONUNBUFFERED: '1',
    SNAKEPIT_SERVE_PARENT: String(process.pid),
  };

  const check = spawnSync(interpreter, ['-c', 'import grpc, google.protobuf'], { env, encoding: 'utf8' });
  if (check.status !== 0) {
    throw new PythonEnvError(
      `${interpreter} cannot import grpcio and protobuf, which the gRPC server needs`,
      `install them in that interpreter: npx snakepit setup grpcio protobuf (for ./.venv), or ${interpreter} -m pip install grpcio protobuf`,
    );
  }

  const args = ['-m', 'snakepit_bridge', 'serve', '--grpc', flags.grpc, '--adapter', pool.adapter];
  for (const [key, option] of PASSED) {
    const value = flags[key];
    if (typeof value === 'string') args.push(option, value);
  }
  if (flags.insecure) args.push('--insecure');
  const child = spawn(interpreter, args, { cwd, env, stdio: 'inherit' });
  const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((done) => {
    child.on('error', (err) => {
      process.stderr.write(`snakepit serve: cannot run ${interpreter}: ${err.message}\n`);
      done(1);
    });
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      done(code ?? (signal ? 1 : 0));
    });
  });
}
