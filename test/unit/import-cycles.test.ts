/**
 * No import cycles in src/ or in the Python bridge (scripts/import-cycles.ts draws both graphs; every import counts:
 * type-only, re-exports, dynamic, and Python's function-local imports), and src/ keeps the layers ARCHITECTURE.md
 * states (LAYER_RULES).
 */
import { describe, expect, it } from 'vitest';
import {
  cycles,
  describeCycle,
  type Graph,
  layerViolations,
  pythonGraph,
  typescriptGraph,
} from '../../scripts/import-cycles.js';

function report(graph: Graph): string[] {
  return cycles(graph).map((c) => describeCycle(graph, c));
}

describe('import graph', () => {
  it('finds a cycle when there is one, through every kind of edge', () => {
    const graph: Graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a', 'd']],
      ['d', []],
    ]);
    expect(report(graph)).toEqual(['a → b → c → a']);
    expect(
      report(
        new Map([
          ['a', ['b']],
          ['b', []],
        ]),
      ),
    ).toEqual([]);
  });

  it('src/ has no import cycles', () => {
    const graph = typescriptGraph();
    expect(graph.size).toBeGreaterThan(100);
    // The graph sees type-only imports and dynamic import(): spot-check edges of both kinds.
    expect(graph.get('src/telemetry/call-telemetry.ts')).toContain('src/call/call.ts');
    expect(report(graph)).toEqual([]);
  });

  it('python/snakepit_bridge has no import cycles (function-local imports included)', () => {
    const graph = pythonGraph();
    expect(graph.size).toBeGreaterThan(30);
    expect(report(graph)).toEqual([]);
  });

  it('finds an import that breaks a layer, by prefix or by file', () => {
    const graph: Graph = new Map([
      ['src/worker/worker-handle.ts', ['src/remote/remote-link.ts', 'src/transport/frame-channel.ts']],
      ['src/pool/link-registry.ts', ['src/remote/remote-fleet.ts']],
      ['src/runtimes/node/main.ts', ['src/runtimes/node/frame-reader.ts', 'src/util/logger.ts']],
      ['src/pool/pool-supervisor.ts', ['src/pool/pool.ts']],
    ]);
    expect(layerViolations(graph).map((v) => v.replace(/^.*: /, ''))).toEqual([
      'src/worker/worker-handle.ts → src/remote/remote-link.ts',
      'src/worker/worker-handle.ts → src/remote/remote-link.ts',
      'src/runtimes/node/main.ts → src/util/logger.ts',
      'src/pool/pool-supervisor.ts → src/pool/pool.ts',
    ]);
  });

  it('src/ keeps its layers', () => {
    expect(layerViolations(typescriptGraph())).toEqual([]);
  });
});
