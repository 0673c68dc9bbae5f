/**
 * The byte pipe a channel runs over (transport/channel.ts): a socket pair for local workers, a gRPC stream for
 * remote ones. Each worker link (worker/worker-link.ts) provides one.
 */
import type { Duplex } from 'node:stream';

/** The channel's byte pipe: a Node Duplex (a socket, or a stream that carries bytes elsewhere). */
export type ByteStream = Duplex & {
  setNoDelay?: (noDelay?: boolean) => unknown;
  ref?: () => unknown;
  unref?: () => unknown;
};
