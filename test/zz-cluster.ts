import { startLocalRay } from './ray-helpers.js';
import { spawnSync } from 'node:child_process';
const ray = await startLocalRay({ numCpus: 4 });
try {
  for (let i = 0; i < 2; i++) { const t = Date.now(); const r = spawnSync('.venv/bin/python', ['/tmp/rayx/t2.py', ray.address], { encoding: 'utf8' }); console.log(r.stdout, r.stderr.slice(-500), Date.now() - t); }
} finally { await ray.stop(); }
