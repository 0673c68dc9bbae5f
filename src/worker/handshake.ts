/**
 * The host's half of a worker's start-up handshake (PROTOCOL.md §2): check the `hello` (protocol version, the
 * codecs it offers), choose the codec and build the `welcome`; and, for a remote worker, check that its `ready`
 * names the adapter the pool is configured for. Pure functions of the config, so `WorkerHandle` only sends and
 * switches codecs.
 */
import type { ResolvedPoolConfig } from '../config/config-types.js';
import {
  type CodecName,
  type HelloMessage,
  PROTOCOL_VERSION,
  type WelcomeMessage,
} from '../protocol/messages.js';
import { sameAdapter } from '../remote/remote-link.js';

/** What to answer a `hello`: the codec and the `welcome` frame, or why the worker cannot be used. */
export type HelloAnswer = { codec: CodecName; welcome: WelcomeMessage } | { problem: string };

export function answerHello(hello: HelloMessage, config: ResolvedPoolConfig, workerId: string): HelloAnswer {
  if (hello.protocol !== PROTOCOL_VERSION) {
    return {
      problem:
        `worker ${workerId} speaks bridge protocol ${hello.protocol}; this host speaks ${PROTOCOL_VERSION} ` +
        `(the python/snakepit_bridge on PYTHONPATH is from another snakepit version)`,
    };
  }
  const codecs = Array.isArray(hello.codecs) ? hello.codecs : ['json'];
  const wanted = config.codec;
  let codec: CodecName;
  if (wanted === 'auto') codec = codecs.includes('msgpack') ? 'msgpack' : 'json';
  else if (codecs.includes(wanted)) codec = wanted;
  else {
    return {
      problem: config.command
        ? `pool "${config.name}" asks for codec "${wanted}", but its worker (${config.command[0]}) offers ` +
          `${codecs.join(', ')}: set codec: "auto"`
        : `pool "${config.name}" asks for codec "${wanted}", but the worker's Python (${config.python.executable}) ` +
          `offers ${codecs.join(', ')}: install the msgpack package there, or set codec: "auto"`,
    };
  }
  const heartbeat = config.heartbeat;
  return {
    codec,
    welcome: {
      type: 'welcome',
      protocol: PROTOCOL_VERSION,
      codec,
      max_frame_bytes: config.maxFrameBytes,
      ...(heartbeat
        ? { heartbeat: { interval_ms: heartbeat.intervalMs, timeout_ms: heartbeat.hostTimeoutMs } }
        : {}),
      ...(config.threadsPerWorker !== undefined ? { threads: config.threadsPerWorker } : {}),
    },
  };
}

/** A remote worker's `ready` named another adapter than the pool's: why it cannot be used, else undefined. */
export function remoteAdapterProblem(
  endpoint: string | undefined,
  config: ResolvedPoolConfig,
  adapter: string,
): string | undefined {
  if (endpoint === undefined || sameAdapter(config.adapter, adapter)) return undefined;
  return (
    `endpoint ${endpoint} serves adapter "${adapter}", but pool "${config.name}" is configured ` +
    `for "${config.adapter}": point the pool at the right endpoints, or fix its adapter`
  );
}
