/**
 * The link kinds a pool can use, listed once. A new transport is a LinkKind (worker/link-kind.ts) in its own
 * folder plus one line here; the supervisor opens whatever the pool's config asks for through `openLinks`.
 */
import { snakepitLinks } from '../interop/snakepit-link.js';
import { grpcLinks } from '../remote/remote-fleet.js';
import { rayLinks } from '../ray/ray-backend.js';
import type { LinkHost, LinkKind, PoolLinks } from '../worker/link-kind.js';
import type { WorkerHandle } from '../worker/worker-handle.js';
import type { LinkFactory } from '../worker/worker-link.js';

export const LINK_KINDS: readonly LinkKind[] = [grpcLinks, snakepitLinks, rayLinks];

/** The pool's links of every kind its config uses, as one PoolLinks (every hook reaches each kind). */
export function openLinks(host: LinkHost, kinds: readonly LinkKind[] = LINK_KINDS): Required<PoolLinks> {
  const open: PoolLinks[] = [];
  for (const kind of kinds) {
    const links = kind.open(host);
    if (links) open.push(links);
  }
  return {
    linkFor(endpoint: string | undefined): LinkFactory | undefined {
      for (const links of open) {
        const link = links.linkFor(endpoint);
        if (link) return link;
      }
      return undefined;
    },
    async start(): Promise<void> {
      await Promise.all(open.map((links) => links.start?.()));
    },
    onSlotFree(worker: WorkerHandle): void {
      for (const links of open) links.onSlotFree?.(worker);
    },
    onExit(worker: WorkerHandle): void {
      for (const links of open) links.onExit?.(worker);
    },
    stop(): void {
      for (const links of open) links.stop?.();
    },
    async close(): Promise<void> {
      await Promise.all(open.map((links) => links.close?.()));
    },
  };
}
