/**
 * A worker's `ready.tools` as the host keeps them. A worker is not trusted (a foreign executable, a broken
 * adapter): entries that are not objects with a string `name` are dropped, and the fields the host reads are
 * given their types, so nothing downstream (describe, toLlmTools, typegen, the dashboard) meets a number where
 * it expects text.
 */
import type { ToolSpec } from '../protocol/messages.js';

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

export function usableToolSpecs(raw: unknown): ToolSpec[] {
  if (!Array.isArray(raw)) return [];
  const specs: ToolSpec[] = [];
  for (const entry of raw) {
    if (!isObject(entry) || typeof entry['name'] !== 'string' || entry['name'] === '') continue;
    const spec = { ...entry } as unknown as ToolSpec & Record<string, unknown>;
    spec.description = typeof entry['description'] === 'string' ? entry['description'] : '';
    spec.supports_streaming = entry['supports_streaming'] === true;
    spec.parameters = Array.isArray(entry['parameters'])
      ? (entry['parameters'] as unknown[]).filter(
          (p): p is ToolSpec['parameters'][number] => isObject(p) && typeof p['name'] === 'string',
        )
      : [];
    if (entry['input_schema'] !== undefined && !isObject(entry['input_schema'])) delete spec['input_schema'];
    if (entry['signature'] !== undefined && typeof entry['signature'] !== 'string') delete spec['signature'];
    specs.push(spec);
  }
  return specs;
}
