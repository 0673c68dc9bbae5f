/** The lifeline thread of a Node worker (lifeline.ts): watches for the host's death beside the main thread. */
import { parentPort, workerData } from 'node:worker_threads';
import { lifelineLoop } from './lifeline.js';

const { parent, hostPid } = workerData as { parent: number; hostPid: number };
lifelineLoop(parent, hostPid, (why) => parentPort?.postMessage(why));
