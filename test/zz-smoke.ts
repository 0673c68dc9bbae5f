import { Snakepit } from '../src/index.js';
import { startLocalRay } from './ray-helpers.js';
import { FIXTURES_PYTHONPATH, SHOWCASE } from './helpers.js';
const t0 = Date.now();
const ray = await startLocalRay({ numCpus: 4 });
console.log('cluster', Date.now() - t0, ray.address);
try {
  const t1 = Date.now();
  const pit = await Snakepit.start({ adapter: SHOWCASE, size: 2, pythonPath: [FIXTURES_PYTHONPATH], logger: false, startupTimeoutMs: 60000, backend: { kind: 'ray', address: ray.address } });
  console.log('pool', Date.now() - t1);
  console.log(await pit.execute('echo', { value: 'hi' }));
  console.log(pit.workers().map((w) => w.id + ' ' + w.state));
  await pit.close();
  console.log('closed; pids', ray.pids().length);
} finally {
  await ray.stop();
  console.log('stopped', ray.pids().length);
}
