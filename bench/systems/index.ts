import { bareJson, bareMsgpack } from './bare.js';
import { nodeCallsPython } from './node-calls-python.js';
import { pythonShell } from './python-shell.js';
import { pythonia } from './pythonia.js';
import { snakepitJson, snakepitMsgpack, snakepitNode } from './snakepit.js';
import type { SystemSpec } from './types.js';

/** Every system the suite knows, in table order. */
export const SYSTEMS: SystemSpec[] = [
  snakepitMsgpack,
  snakepitJson,
  snakepitNode,
  bareMsgpack,
  bareJson,
  pythonia,
  pythonShell,
  nodeCallsPython,
];

export function systemById(id: string): SystemSpec {
  const s = SYSTEMS.find((x) => x.id === id);
  if (!s) throw new Error(`unknown system "${id}" (known: ${SYSTEMS.map((x) => x.id).join(', ')})`);
  return s;
}
