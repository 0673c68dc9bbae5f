/**
 * The Prometheus exporter through prom-client (an optional peer dependency, imported on first use): snakepit's
 * metric families registered as collectors in a prom-client registry, read from the pools at scrape time.
 *
 * `pit.metrics()` renders with prom-client when it is installed and with `renderExposition` when it is not; both
 * give the same families and samples. `pit.registerMetrics(registry)` puts them into an application's own
 * registry, next to its other metrics.
 */
import { ConfigError } from '../errors/errors.js';
import type { MetricFamily } from './metrics.js';

/** The part of a prom-client `Registry` snakepit uses (prom-client's `Registry` satisfies it). */
export interface PromRegistry {
  registerMetric(metric: object): void;
  removeSingleMetric(name: string): void;
  metrics(): Promise<string>;
}

interface PromClient {
  Registry: new () => PromRegistry;
  register: PromRegistry;
}

let loading: Promise<PromClient | undefined> | undefined;

/** prom-client, or undefined when it is not installed. Imported once. */
export function loadPromClient(): Promise<PromClient | undefined> {
  loading ??= import('prom-client').then(
    (mod) => {
      const m = mod as unknown as PromClient & { default?: PromClient };
      return m.Registry ? m : m.default;
    },
    () => undefined,
  );
  return loading;
}

/** prom-client, or a ConfigError that says how to get it. */
export async function requirePromClient(): Promise<PromClient> {
  const prom = await loadPromClient();
  if (!prom) {
    throw new ConfigError(
      'registerMetrics',
      'needs prom-client (an optional peer dependency): npm install prom-client@15 — ' +
        'or use pit.metrics(), which renders the exposition text without it',
    );
  }
  return prom;
}

/**
 * Register one collector per family in `registry`; each reads the families when scraped (once per scrape: the
 * registry asks every collector in the same tick). Returns a function that removes them.
 * @throws Error from prom-client when a metric of the same name is registered already (another Snakepit)
 */
export function registerFamilies(registry: PromRegistry, collect: () => MetricFamily[]): () => void {
  let snapshot: Map<string, MetricFamily> | undefined;
  const read = (name: string): MetricFamily | undefined => {
    if (!snapshot) {
      snapshot = new Map(collect().map((f) => [f.name, f]));
      queueMicrotask(() => (snapshot = undefined));
    }
    return snapshot.get(name);
  };
  const names: string[] = [];
  try {
    for (const family of collect()) {
      const collector = {
        name: family.name,
        help: family.help,
        type: family.type,
        aggregator: 'sum',
        get() {
          const f = read(family.name);
          return {
            // prom-client renames counters in OpenMetrics mode; follow it.
            name: collector.name,
            help: family.help,
            type: family.type,
            aggregator: 'sum',
            values: (f?.samples ?? []).map((s) => ({
              value: s.value,
              labels: s.labels,
              ...(s.name === family.name ? {} : { metricName: s.name }),
            })),
          };
        },
        reset() {},
      };
      registry.registerMetric(collector);
      names.push(family.name);
    }
  } catch (err) {
    for (const name of names) registry.removeSingleMetric(name);
    throw err;
  }
  return () => {
    for (const name of names) registry.removeSingleMetric(name);
  };
}

/** The exposition text of `families`, rendered by prom-client in a registry of its own. */
export async function renderWithPromClient(prom: PromClient, families: MetricFamily[]): Promise<string> {
  const registry = new prom.Registry();
  registerFamilies(registry, () => families);
  return registry.metrics();
}
