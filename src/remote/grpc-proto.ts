/**
 * snakepit's gRPC service definition, loaded at run time from the very `.proto` file the Python side parses
 * (`python/snakepit_bridge/remote/snakepit_bridge.proto`), so neither side commits generated code.
 *
 * `@grpc/grpc-js` and `@grpc/proto-loader` are imported on first use: a host with only local pools never loads
 * them.
 */
import { join } from 'node:path';
import type * as GrpcModule from '@grpc/grpc-js';
import type { ServiceClientConstructor } from '@grpc/grpc-js';
import { MissingDependencyError } from '../errors/errors.js';
import { bridgeDirectory } from '../python-env/bridge-path.js';

export type Grpc = typeof GrpcModule;

export interface BridgeProto {
  grpc: Grpc;
  /** The client constructor of `snakepit.bridge.BridgeService`; `.service` is its definition for a server. */
  BridgeService: ServiceClientConstructor;
}

/** The message shapes this package sends and receives (proto-loader: snake_case keys, bytes as Buffer). */
export interface ChannelOutMessage {
  data: Buffer;
  stdout: string[];
  stderr: string[];
  exit: { code: number; signal: string; pid: number } | null;
}

export interface ChannelInMessage {
  data: Buffer;
}

/** Where the service definition lives. */
export function bridgeProtoPath(): string {
  return join(bridgeDirectory(), 'snakepit_bridge', 'remote', 'snakepit_bridge.proto');
}

let loading: Promise<BridgeProto> | undefined;

/** The gRPC packages are optional peers: a host that uses remote workers installs them itself. */
const GRPC_PACKAGES = ['@grpc/grpc-js', '@grpc/proto-loader'];

function isMissing(err: unknown, name: string): boolean {
  const e = err as { code?: string; message?: string } | null;
  return (
    (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') &&
    typeof e.message === 'string' &&
    e.message.includes(name)
  );
}

/** The rejection handler of an optional peer's import: its absence is a MissingDependencyError naming the fix. */
function missing(name: string): (err: unknown) => never {
  return (err) => {
    if (!isMissing(err, name)) throw err;
    throw new MissingDependencyError(name, 'transport "grpc" (and "snakepit")', {
      cause: err,
      packages: GRPC_PACKAGES,
    });
  };
}

/** Load grpc-js and the service definition (once). */
export function loadBridgeProto(): Promise<BridgeProto> {
  const attempt = (loading ??= (async () => {
    // `.catch` right on each `import()`: bundlers (esbuild) then leave a missing optional peer to run time.
    const grpcModule = (await import('@grpc/grpc-js').catch(missing('@grpc/grpc-js'))) as Grpc & {
      default?: Grpc;
    };
    const loader = await import('@grpc/proto-loader').catch(missing('@grpc/proto-loader'));
    const grpc = grpcModule.default ?? grpcModule;
    const definition = await (loader.default ?? loader).load(bridgeProtoPath(), {
      keepCase: true,
      longs: Number,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    const root = grpc.loadPackageDefinition(definition) as unknown as {
      snakepit: { bridge: { BridgeService: ServiceClientConstructor } };
    };
    return { grpc, BridgeService: root.snakepit.bridge.BridgeService };
  })());
  // A failed load is not cached: installing the package and trying again works without a restart.
  attempt.catch(() => {
    if (loading === attempt) loading = undefined;
  });
  return attempt;
}

/** A link silent this long after a keepalive ping is dead. */
export const GRPC_KEEPALIVE_TIMEOUT_MS = 3_000;

/** Channel options shared by the host's clients: fast dead-link detection and quick reconnection. */
export function clientOptions(options: {
  keepaliveMs: number;
  keepaliveTimeoutMs: number;
  reconnectInitialMs: number;
  reconnectMaxMs: number;
  serverName?: string | undefined;
}): Record<string, string | number> {
  return {
    'grpc.keepalive_time_ms': options.keepaliveMs,
    'grpc.keepalive_timeout_ms': options.keepaliveTimeoutMs,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.initial_reconnect_backoff_ms': options.reconnectInitialMs,
    'grpc.max_reconnect_backoff_ms': options.reconnectMaxMs,
    'grpc.max_receive_message_length': 8 * 1024 * 1024,
    'grpc.max_send_message_length': 8 * 1024 * 1024,
    // Each pool's channel to an endpoint is its own: a lost link is retried by this pool's fleet, not shared.
    'grpc.use_local_subchannel_pool': 1,
    ...(options.serverName ? { 'grpc.ssl_target_name_override': options.serverName } : {}),
  };
}
