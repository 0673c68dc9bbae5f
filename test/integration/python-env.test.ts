// The interpreter each worker runs, and why it was chosen, are visible in pit.workers() (per pool).
import { describe, expect, it } from 'vitest';
import { findExecutable } from '../../src/python-env/executables.js';
import { Snakepit } from '../../src/index.js';
import { SHOWCASE } from '../helpers.js';

describe('pit.workers() and the interpreter', () => {
  it('shows each worker’s interpreter, version and reason, with a per-pool override', async () => {
    const system = findExecutable('python3')!;
    const pit = await Snakepit.start({
      logger: false,
      pools: [
        { name: 'project', adapter: SHOWCASE, size: 1 },
        { name: 'system', adapter: SHOWCASE, size: 1, python: { executable: system } },
      ],
    });
    try {
      const [project] = pit.workers('project');
      expect(project).toMatchObject({ pool: 'project', pythonSource: './.venv' });
      expect(project!.pythonExecutable).toMatch(/\.venv\/bin\/python$/);
      expect(project!.python).toMatch(/^3\.\d+\.\d+$/);
      const [other] = pit.workers('system');
      expect(other).toMatchObject({ pythonExecutable: system, pythonSource: 'python.executable option' });
      const info = (await pit.execute('info', {}, { pool: 'system' })) as { python: string };
      expect(other!.python).toBe(info.python);
    } finally {
      await pit.close();
    }
  });
});
