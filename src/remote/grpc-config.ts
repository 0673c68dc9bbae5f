/**
 * A pool's transport options: `transport`, `endpoints`, `grpc` and `snakepit`, checked here so resolve-config
 * stays about pools. Remote endpoints are checked for the same exposure rule the worker server applies: an
 * address off this machine needs TLS, unless `grpc.insecure` says otherwise out loud; and a token goes only over
 * TLS, unless `grpc.insecure` says so too.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { ConfigError } from '../errors/errors.js';
import { boolean, describe as show, integer, isPlainObject, rejectUnknownKeys } from '../config/checks.js';
import type {
  EndpointResolver,
  ResolvedGrpcConfig,
  ResolvedSnakepitStyle,
  TransportKind,
} from '../config/config-types.js';
import { DEFAULTS } from '../config/defaults.js';

/** The environment variable a host reads its token from when `grpc.token` is not given. */
export const TOKEN_ENV = 'SNAKEPIT_GRPC_TOKEN';

const GRPC_KEYS = new Set([
  'workersPerEndpoint',
  'token',
  'tls',
  'insecure',
  'connectTimeoutMs',
  'keepaliveMs',
  'resolveIntervalMs',
  'reconnect',
]);
const TLS_KEYS = new Set(['ca', 'cert', 'key', 'serverName']);
const SNAKEPIT_KEYS = new Set(['command', 'heartbeat']);
/** The longest timer Node takes (ms). */
const MAX_MS = 2 ** 31 - 1;
const HOST_PATTERN = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$/;

/** TLS material may be given as Buffers: a Buffer is data, never a section. */
function isSection(value: unknown): value is Record<string, unknown> {
  return isPlainObject(value) && !Buffer.isBuffer(value);
}

/**
 * Split `host:port` (`[v6]:port` for IPv6).
 * @throws ConfigError naming `key` when it is not that shape
 */
export function parseEndpoint(key: string, endpoint: unknown): { host: string; port: number } {
  const match = typeof endpoint === 'string' ? HOST_PATTERN.exec(endpoint) : null;
  const port = match ? Number(match[2]) : NaN;
  if (!match || port < 1 || port > 65535) {
    throw new ConfigError(
      key,
      `must be "host:port" with a port from 1 to 65535 (e.g. "10.0.0.5:50051", "[::1]:50051"), got ${show(endpoint)}`,
    );
  }
  const host = match[1]!.startsWith('[') ? match[1]!.slice(1, -1) : match[1]!;
  return { host, port };
}

/** Loopback addresses and `localhost`: reachable from this machine only. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

/**
 * Why the host must not connect to `endpoint` with these settings, or undefined. Off this machine the channel
 * needs TLS (the token and every argument would otherwise cross the network in clear text).
 */
export function exposureProblem(
  endpoint: string,
  grpc: Pick<ResolvedGrpcConfig, 'tls' | 'insecure'>,
): string | undefined {
  const { host } = parseEndpoint('endpoint', endpoint);
  if (grpc.insecure || grpc.tls || isLoopbackHost(host)) return undefined;
  return (
    `endpoint ${endpoint} is not on this machine and grpc.tls is not set: the token and every call would cross ` +
    'the network in clear text. Configure grpc.tls (and a token), or set grpc.insecure: true to accept that'
  );
}

function pem(key: string, value: unknown): Buffer | undefined {
  if (value === undefined) return undefined;
  if (Buffer.isBuffer(value)) return value;
  if (typeof value !== 'string' || !value) {
    throw new ConfigError(key, `must be a file path or a Buffer of PEM data, got ${show(value)}`);
  }
  try {
    return readFileSync(value);
  } catch (err) {
    throw new ConfigError(key, `cannot read ${value}: ${(err as Error).message}`);
  }
}

function resolveTls(where: string, raw: unknown): ResolvedGrpcConfig['tls'] {
  if (raw === undefined || raw === false) return undefined;
  if (raw === true) return { ca: undefined, cert: undefined, key: undefined, serverName: undefined };
  if (!isSection(raw)) {
    throw new ConfigError(where, `must be true or an object { ca, cert, key, serverName }, got ${show(raw)}`);
  }
  rejectUnknownKeys(`${where}.`, raw, TLS_KEYS);
  const cert = pem(`${where}.cert`, raw['cert']);
  const key = pem(`${where}.key`, raw['key']);
  if (Boolean(cert) !== Boolean(key)) {
    throw new ConfigError(`${where}.${cert ? 'key' : 'cert'}`, 'client certificates need both cert and key');
  }
  const serverName = raw['serverName'];
  if (serverName !== undefined && (typeof serverName !== 'string' || !serverName)) {
    throw new ConfigError(`${where}.serverName`, `must be a host name, got ${show(serverName)}`);
  }
  return { ca: pem(`${where}.ca`, raw['ca']), cert, key, serverName };
}

function resolveEndpoints(where: string, raw: unknown): ResolvedGrpcConfig['endpoints'] {
  if (typeof raw === 'function') return { resolver: raw as EndpointResolver, list: undefined };
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new ConfigError(
      `${where}.endpoints`,
      `must be a non-empty array of "host:port" strings or a function returning one, got ${show(raw)}`,
    );
  }
  raw.forEach((e, i) => parseEndpoint(`${where}.endpoints[${i}]`, e));
  if (new Set(raw).size !== raw.length) {
    throw new ConfigError(
      `${where}.endpoints`,
      'lists an endpoint twice; use grpc.workersPerEndpoint for more workers there',
    );
  }
  return { resolver: undefined, list: [...(raw as string[])] };
}

/** Check `grpc` (and `endpoints`) for a pool with `transport: "grpc"`. */
export function resolveGrpcConfig(where: string, endpoints: unknown, raw: unknown): ResolvedGrpcConfig {
  if (endpoints === undefined) {
    throw new ConfigError(
      `${where}.endpoints`,
      'is required with transport "grpc": the workers\' addresses, e.g. ["10.0.0.5:50051"], or a function ' +
        'that returns them (see dnsEndpoints)',
    );
  }
  const grpc = raw === undefined ? {} : raw;
  if (!isSection(grpc)) throw new ConfigError(`${where}.grpc`, `must be an object, got ${show(raw)}`);
  rejectUnknownKeys(`${where}.grpc.`, grpc, GRPC_KEYS);
  const token = grpc['token'] ?? process.env[TOKEN_ENV];
  if (token !== undefined && (typeof token !== 'string' || token.length < 16)) {
    throw new ConfigError(
      grpc['token'] === undefined ? TOKEN_ENV : `${where}.grpc.token`,
      `must be a string of at least 16 characters (try: openssl rand -hex 32), got ${typeof token === 'string' ? `${token.length} characters` : show(token)}`,
    );
  }
  const insecure = boolean(`${where}.grpc.insecure`, grpc['insecure'] ?? false);
  const reconnect = grpc['reconnect'] ?? {};
  if (!isSection(reconnect)) {
    throw new ConfigError(`${where}.grpc.reconnect`, `must be an object, got ${show(reconnect)}`);
  }
  rejectUnknownKeys(`${where}.grpc.reconnect.`, reconnect, new Set(['initialBackoffMs', 'maxBackoffMs']));
  const initialBackoffMs = integer(
    `${where}.grpc.reconnect.initialBackoffMs`,
    reconnect['initialBackoffMs'],
    DEFAULTS.grpc.reconnectInitialBackoffMs,
    1,
    MAX_MS,
  );
  const maxBackoffMs = integer(
    `${where}.grpc.reconnect.maxBackoffMs`,
    reconnect['maxBackoffMs'],
    Math.max(DEFAULTS.grpc.reconnectMaxBackoffMs, initialBackoffMs),
    initialBackoffMs,
    MAX_MS,
  );
  const resolved: ResolvedGrpcConfig = {
    endpoints: resolveEndpoints(where, endpoints),
    workersPerEndpoint: integer(
      `${where}.grpc.workersPerEndpoint`,
      grpc['workersPerEndpoint'],
      DEFAULTS.grpc.workersPerEndpoint,
      1,
      1_000,
    ),
    token: token as string | undefined,
    tls: resolveTls(`${where}.grpc.tls`, grpc['tls']),
    insecure,
    connectTimeoutMs: integer(
      `${where}.grpc.connectTimeoutMs`,
      grpc['connectTimeoutMs'],
      DEFAULTS.grpc.connectTimeoutMs,
      1,
      MAX_MS,
    ),
    keepaliveMs: integer(
      `${where}.grpc.keepaliveMs`,
      grpc['keepaliveMs'],
      DEFAULTS.grpc.keepaliveMs,
      500,
      MAX_MS,
    ),
    resolveIntervalMs: integer(
      `${where}.grpc.resolveIntervalMs`,
      grpc['resolveIntervalMs'],
      DEFAULTS.grpc.resolveIntervalMs,
      100,
      MAX_MS,
    ),
    reconnect: { initialBackoffMs, maxBackoffMs },
  };
  if (resolved.token !== undefined && !resolved.tls && !insecure) {
    throw new ConfigError(
      grpc['token'] === undefined ? TOKEN_ENV : `${where}.grpc.token`,
      'is set but grpc.tls is not: the token would cross the connection in clear text for anyone on the path to ' +
        'read. Configure grpc.tls, or set grpc.insecure: true to send it over plain TCP anyway (e.g. to an ' +
        'endpoint on this machine)',
    );
  }
  resolved.endpoints.list?.forEach((endpoint, i) => {
    const problem = exposureProblem(endpoint, resolved);
    if (problem) throw new ConfigError(`${where}.endpoints[${i}]`, problem);
  });
  return resolved;
}

/** Check `snakepit` for a pool with `transport: "snakepit"`. */
export function resolveSnakepitStyle(where: string, raw: unknown): ResolvedSnakepitStyle {
  const section = raw === undefined ? {} : raw;
  if (!isSection(section)) {
    throw new ConfigError(`${where}.snakepit`, `must be an object, got ${show(raw)}`);
  }
  rejectUnknownKeys(`${where}.snakepit.`, section, SNAKEPIT_KEYS);
  const command = section['command'];
  if (
    command !== undefined &&
    (!Array.isArray(command) ||
      command.length === 0 ||
      command.some((part) => typeof part !== 'string' || part.length === 0))
  ) {
    throw new ConfigError(
      `${where}.snakepit.command`,
      `must be a non-empty array of strings, e.g. ["python3", "grpc_server.py"], got ${show(command)}`,
    );
  }
  const heartbeat = boolean(`${where}.snakepit.heartbeat`, section['heartbeat'] ?? true);
  return { command: command as string[] | undefined, heartbeat };
}

/**
 * Check `transport` and the options that belong to it.
 * @returns the transport kind; `endpoints`, `grpc` and `snakepit` are refused where they do not apply
 */
export function resolveTransport(
  where: string,
  pool: { transport?: unknown; endpoints?: unknown; grpc?: unknown; snakepit?: unknown },
): TransportKind {
  const transport = pool.transport ?? 'local';
  if (transport !== 'local' && transport !== 'grpc' && transport !== 'snakepit') {
    throw new ConfigError(
      `${where}.transport`,
      `must be "local", "grpc" or "snakepit", got ${show(transport)}`,
    );
  }
  if (transport !== 'grpc') {
    for (const key of ['endpoints', 'grpc'] as const) {
      if (pool[key] !== undefined) {
        throw new ConfigError(
          `${where}.${key}`,
          `belongs to transport "grpc" (this pool's is "${transport}")`,
        );
      }
    }
  }
  if (transport !== 'snakepit' && pool.snakepit !== undefined) {
    throw new ConfigError(
      `${where}.snakepit`,
      `belongs to transport "snakepit" (this pool's is "${transport}")`,
    );
  }
  return transport;
}
