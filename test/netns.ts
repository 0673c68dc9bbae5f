/**
 * Throw-away "hosts" for multi-host tests: Linux network namespaces joined to the root namespace by veth pairs,
 * each a /30 of its own (10.210.<n>.0/30: the root side is .1, the namespace .2). Traffic to these addresses
 * never leaves this machine. Needs root (CAP_NET_ADMIN); `netnsUnavailable()` says why not, if not.
 */
import { execFileSync, spawnSync } from 'node:child_process';

export interface TestHost {
  /** The namespace's name, for `ip netns exec`. */
  ns: string;
  /** The namespace's address, as the root namespace reaches it. */
  address: string;
  /** The root side of the veth pair: down = link cut. */
  rootLink: string;
}

function ip(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Why namespaces cannot be made here, or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `network namespaces are Linux-only (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'creating network namespaces needs root';
  const probe = `sp-probe-${process.pid}`;
  const made = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (made.error || made.status !== 0) {
    return `\`ip netns add\` failed: ${made.error?.message ?? made.stderr.trim()}`;
  }
  spawnSync('ip', ['netns', 'del', probe]);
  return undefined;
}

/**
 * Make `count` hosts. Names carry this process's pid, so parallel runs do not collide.
 * @throws when an `ip` command fails (what was made so far is removed)
 */
export function makeTestHosts(count: number, subnetBase = 210): TestHost[] {
  const hosts: TestHost[] = [];
  try {
    for (let i = 1; i <= count; i++) {
      const tag = `${process.pid % 100000}${i}`;
      const ns = `sp-h${tag}`;
      const rootLink = `spr${tag}`.slice(0, 15);
      const nsLink = `spn${tag}`.slice(0, 15);
      const net = `10.${subnetBase}.${i}`;
      ip(['netns', 'add', ns]);
      hosts.push({ ns, address: `${net}.2`, rootLink });
      ip(['link', 'add', rootLink, 'type', 'veth', 'peer', 'name', nsLink]);
      ip(['link', 'set', nsLink, 'netns', ns]);
      ip(['addr', 'add', `${net}.1/30`, 'dev', rootLink]);
      ip(['link', 'set', rootLink, 'up']);
      ip(['netns', 'exec', ns, 'ip', 'addr', 'add', `${net}.2/30`, 'dev', nsLink]);
      ip(['netns', 'exec', ns, 'ip', 'link', 'set', nsLink, 'up']);
      ip(['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
    }
  } catch (err) {
    removeTestHosts(hosts);
    throw err;
  }
  return hosts;
}

/** Cut (`false`) or restore (`true`) a host's link. */
export function setLink(host: TestHost, up: boolean): void {
  ip(['link', 'set', host.rootLink, up ? 'up' : 'down']);
}

/** Remove the hosts (their veth pairs go with the namespaces); quiet about what is already gone. */
export function removeTestHosts(hosts: TestHost[]): void {
  for (const host of hosts) {
    spawnSync('ip', ['link', 'del', host.rootLink]);
    spawnSync('ip', ['netns', 'del', host.ns]);
  }
}
