// The package as npm users get it: `npm pack`, then installs of the tarball into fresh ES module, CommonJS and
// TypeScript (`module: nodenext`) projects, each starting a pool and calling Python; an esbuild bundle run with
// SNAKEPIT_BRIDGE_PATH; `snakepit setup` in a fresh project and pyright resolving the bridge in its venv; attw and
// publint on the tarball. The README's quick start is run verbatim (the only substitution: the tarball for
// `snakepit` in `npm install`). One tarball, three installs in parallel from the npm cache: one to two minutes.
import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { neutralEnv, REPO } from '../cli/cli-helpers.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string | undefined>; timeoutMs?: number },
): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...neutralEnv(), NO_COLOR: '1' };
  delete env['PYTHONPATH'];
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd: options.cwd, env, timeout: options.timeoutMs ?? 120_000, maxBuffer: 32 * 1024 * 1024 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
      },
    );
  });
}

const node = (cwd: string, args: string[], env?: Record<string, string | undefined>): Promise<Run> =>
  run(process.execPath, args, { cwd, ...(env ? { env } : {}) });
const bin = (name: string): string => join(REPO, 'node_modules', '.bin', name);

/** The README's fenced block whose first line is `// <file>` or `# <file>`, as it stands. */
function readmeBlock(file: string): string {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  for (const match of readme.matchAll(/```[a-z]*\n([\s\S]*?)```/g)) {
    const body = match[1]!;
    const first = body.split('\n', 1)[0]!;
    if (first.startsWith(`// ${file}`) || first === `# ${file}`) return body;
  }
  throw new Error(`README.md has no code block starting with "// ${file}"`);
}

/** The first `npm install ...` line of the README. */
function readmeInstallLine(): string {
  const line = readFileSync(join(REPO, 'README.md'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith('npm install '));
  if (!line) throw new Error('README.md has no `npm install` line');
  return line.trim();
}

let work: string;
let tarball: string;
const projects: Record<'esm' | 'cjs' | 'ts', string> = { esm: '', cjs: '', ts: '' };
const installs: Partial<Record<keyof typeof projects, Run>> = {};

beforeAll(async () => {
  if (!existsSync(join(REPO, 'dist', 'cjs', 'index.cjs'))) throw new Error('not built: run `npm run build`');
  work = mkdtempSync(join(tmpdir(), 'snakepit-pack-'));
  const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], {
    cwd: REPO,
  });
  expect(packed.code, packed.stderr).toBe(0);
  tarball = join(work, (JSON.parse(packed.stdout) as Array<{ filename: string }>)[0]!.filename);

  const install = readmeInstallLine().split(/\s+/);
  expect(install).toEqual(['npm', 'install', 'snakepit']);
  const flags = ['--prefer-offline', '--no-audit', '--no-fund'];
  const types: Record<keyof typeof projects, string | undefined> = {
    esm: 'module',
    cjs: 'commonjs',
    ts: undefined,
  };
  await Promise.all(
    (Object.keys(projects) as Array<keyof typeof projects>).map(async (name) => {
      const dir = join(work, name);
      mkdirSync(dir);
      writeFileSync(
        join(dir, 'package.json'),
        JSON.stringify({ name: `${name}-app`, private: true, ...(types[name] ? { type: types[name] } : {}) }),
      );
      projects[name] = dir;
      // The README's line, with the tarball for the registry name; the TypeScript project adds Node's types.
      const extra = name === 'ts' ? ['@types/node@20'] : [];
      installs[name] = await run('npm', ['install', ...flags, tarball, ...extra], {
        cwd: dir,
        timeoutMs: 180_000,
      });
    }),
  );
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Every path under dir (relative), for content checks. */
function walk(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    return e.isDirectory()
      ? [path.slice(base.length + 1) + '/', ...walk(path, base)]
      : [path.slice(base.length + 1)];
  });
}

describe('the packed tarball', () => {
  it('ships the builds, the bridge with py.typed, LICENSE and CHANGELOG; no source maps, caches or tests', () => {
    const files = walk(join(projects.esm, 'node_modules', 'snakepit'));
    for (const f of [
      'LICENSE',
      'CHANGELOG.md',
      'README.md',
      'dist/src/index.js',
      'dist/src/index.d.ts',
      'dist/cjs/index.cjs',
      'dist/cjs/index.d.cts',
      'python/snakepit_bridge/__init__.py',
      'python/snakepit_bridge/py.typed',
      'bin/snakepit.js',
    ]) {
      expect(files, f).toContain(f);
    }
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(files.filter((f) => f.includes('__pycache__') || f.startsWith('python/tests'))).toEqual([]);
  });

  it('installs without compiling anything: no benchmark peers, no gRPC, no node-gyp build', () => {
    for (const [name, result] of Object.entries(installs))
      expect(result?.code, `${name}: ${result?.stderr}`).toBe(0);
    const modules = join(projects.esm, 'node_modules');
    const installed = readdirSync(modules);
    for (const absent of ['node-calls-python', 'pythonia', 'python-shell', '@grpc']) {
      expect(installed).not.toContain(absent);
    }
    // node-gyp leaves build/config.gypi behind whenever it compiles.
    expect(walk(modules).filter((f) => f.endsWith('build/config.gypi'))).toEqual([]);
  });

  it('passes @arethetypeswrong/cli and publint', async () => {
    const attw = await run(bin('attw'), [tarball, '--format', 'ascii'], { cwd: work });
    expect(attw.code, attw.stdout + attw.stderr).toBe(0);
    expect(attw.stdout).toContain('No problems found');
    const publint = await run(bin('publint'), ['run', tarball, '--strict'], { cwd: work });
    expect(publint.code, publint.stdout + publint.stderr).toBe(0);
    expect(publint.stdout + publint.stderr).not.toMatch(/Warnings:|Errors:/);
  }, 120_000);
});

describe('fresh projects', () => {
  it('ES module: the README quick start runs verbatim, and so does its adapter example', async () => {
    writeFileSync(join(projects.esm, 'quickstart.mjs'), readmeBlock('quickstart.mjs'));
    const r = await node(projects.esm, ['quickstart.mjs']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('2.5\n');
    writeFileSync(join(projects.esm, 'my_tools.py'), readmeBlock('my_tools.py'));
    writeFileSync(join(projects.esm, 'adapter.mjs'), readmeBlock('adapter.mjs'));
    const a = await node(projects.esm, ['adapter.mjs']);
    expect(a.stderr).toBe('');
    expect(a.stdout).toBe('Hello, Ada!\n');
  }, 120_000);

  it('ES module: transport "grpc" without the optional peers fails with the package to install', async () => {
    writeFileSync(
      join(projects.esm, 'grpc.mjs'),
      `import { Snakepit, MissingDependencyError } from 'snakepit';
try {
  await Snakepit.start({ adapter: 'snakepit_bridge.adapters.showcase:ShowcaseAdapter', transport: 'grpc',
    endpoints: ['127.0.0.1:9'], grpc: { insecure: true } });
  console.log('started?');
} catch (err) {
  console.log(JSON.stringify({ missing: err instanceof MissingDependencyError, code: err.code, fix: err.fix }));
}
`,
    );
    const r = await node(projects.esm, ['grpc.mjs']);
    expect(JSON.parse(r.stdout)).toEqual({
      missing: true,
      code: 'SNAKEPIT_MISSING_DEPENDENCY',
      fix: 'npm install @grpc/grpc-js @grpc/proto-loader',
    });
  }, 120_000);

  it('CommonJS: require works, the README snippet runs, errors keep their classes', async () => {
    writeFileSync(join(projects.cjs, 'quickstart.cjs'), readmeBlock('quickstart.cjs'));
    const r = await node(projects.cjs, ['quickstart.cjs']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('2\n');
    writeFileSync(
      join(projects.cjs, 'errors.js'),
      `const { Snakepit, PythonError, UnknownToolError } = require('snakepit');
Snakepit.runAsScript({ adapter: 'snakepit_bridge.adapters.showcase:ShowcaseAdapter', size: 1 }, async (pit) => {
  const out = [await pit.execute('add', { a: 1, b: 2 })];
  await pit.execute('nope').catch((e) => out.push(e instanceof UnknownToolError, e.code));
  await pit.execute('error_demo', { message: 'x' }).catch((e) => out.push(e instanceof PythonError, e.pythonType));
  console.log(JSON.stringify(out));
});
`,
    );
    const e = await node(projects.cjs, ['errors.js']);
    expect(e.stderr).toBe('');
    expect(JSON.parse(e.stdout)).toEqual([3, true, 'SNAKEPIT_UNKNOWN_TOOL', true, 'ValueError']);
  }, 120_000);

  it('TypeScript (module nodenext): a CommonJS file and the README quick start as .mts compile and run', async () => {
    const dir = projects.ts;
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          strict: true,
          skipLibCheck: false,
          outDir: 'out',
          types: ['node'],
        },
        include: ['*.ts', '*.mts'],
      }),
    );
    writeFileSync(
      join(dir, 'app.ts'),
      `import { Snakepit, PythonValueError, type PoolStats } from 'snakepit';

async function main(): Promise<void> {
  const pit = await Snakepit.start({ adapter: 'snakepit_bridge.adapters.showcase:ShowcaseAdapter', size: 1 });
  try {
    const sum = await pit.execute<number>('add', { a: 2, b: 3 });
    const chunks: Array<{ i: number }> = [];
    for await (const chunk of pit.executeStream<{ i: number }>('count', { n: 2 })) chunks.push(chunk);
    const stats: PoolStats = pit.stats('default');
    let pythonType = '';
    await pit.execute('error_demo', { message: 'x' }).catch((e: unknown) => {
      if (e instanceof PythonValueError) pythonType = e.pythonType;
    });
    console.log(JSON.stringify({ sum, chunks, workers: stats.workers, pythonType }));
  } finally {
    await pit.close();
  }
}
void main();
`,
    );
    writeFileSync(join(dir, 'quickstart.mts'), readmeBlock('quickstart.mjs'));
    const tsc = await node(dir, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.']);
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.code).toBe(0);
    // app.ts in a package without "type" compiles to CommonJS: require('snakepit') at run time.
    expect(readFileSync(join(dir, 'out', 'app.js'), 'utf8')).toContain('require("snakepit")');
    const r = await node(dir, ['out/app.js']);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      sum: 5,
      chunks: [{ i: 0 }, { i: 1 }],
      workers: 1,
      pythonType: 'ValueError',
    });
    const q = await node(dir, ['out/quickstart.mjs']);
    expect(q.stderr).toBe('');
    expect(q.stdout).toBe('2.5\n');
  }, 240_000);

  it('an esbuild bundle runs with SNAKEPIT_BRIDGE_PATH or python.bridgePath, and without either names the fix', async () => {
    const app = join(projects.esm, 'quickstart.mjs');
    if (!existsSync(app)) writeFileSync(app, readmeBlock('quickstart.mjs'));
    const out = join(work, 'bundled');
    const built = await run(
      bin('esbuild'),
      [
        app,
        '--bundle',
        '--platform=node',
        '--format=esm',
        `--outfile=${join(out, 'app.mjs')}`,
        '--log-level=error',
      ],
      { cwd: projects.esm },
    );
    expect(built.code, built.stderr).toBe(0);
    // The bundle's folder has no node_modules: the bridge ships as a resource folder of the app.
    cpSync(join(projects.esm, 'node_modules', 'snakepit', 'python'), join(out, 'resources', 'python'), {
      recursive: true,
    });
    const r = await node(out, ['app.mjs'], { SNAKEPIT_BRIDGE_PATH: join(out, 'resources', 'python') });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('2.5\n');
    const missing = await node(out, ['app.mjs']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("code: 'SNAKEPIT_BRIDGE_NOT_FOUND'");
    expect(missing.stderr).toMatch(/fix: .*SNAKEPIT_BRIDGE_PATH/);
    // docs/PYTHON_ENVIRONMENTS.md's other recipe: python.bridgePath relative to the bundle, any working directory.
    writeFileSync(
      join(projects.esm, 'option.mjs'),
      `import { fileURLToPath } from 'node:url';
import { Snakepit } from 'snakepit';
const bridgePath = fileURLToPath(new URL('./resources/python', import.meta.url));
const pit = await Snakepit.start({ libraries: [{ name: 'math', module: 'math', functions: ['sqrt'] }], python: { bridgePath } });
console.log(await pit.execute('python.math.sqrt', { _args: [16] }));
await pit.close();
`,
    );
    const option = await run(
      bin('esbuild'),
      [
        'option.mjs',
        '--bundle',
        '--platform=node',
        '--format=esm',
        `--outfile=${join(out, 'option.mjs')}`,
        '--log-level=error',
      ],
      { cwd: projects.esm },
    );
    expect(option.code, option.stderr).toBe(0);
    const o = await node(work, [join(out, 'option.mjs')]);
    expect(o.stderr).toBe('');
    expect(o.stdout).toBe('4\n');
  }, 120_000);

  it('the installed CLI: help without bench, bench explains it needs a clone, call takes positional arguments', async () => {
    const cli = join(projects.cjs, 'node_modules', '.bin', 'snakepit');
    const help = await run(cli, ['--help'], { cwd: projects.cjs });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('setup');
    expect(help.stdout).not.toMatch(/^\s+bench\b/m);
    const bench = await run(cli, ['bench'], { cwd: projects.cjs });
    expect(bench.code).toBe(0);
    expect(bench.stdout).toMatch(/needs a clone of the repository/);
    const call = await run(cli, ['call', 'python.math.sqrt', '16'], { cwd: projects.cjs });
    expect(call.stderr).toBe('');
    expect(call.stdout).toBe('4\n');
  }, 120_000);

  it('snakepit setup links the bridge into the venv: pyright resolves it; nothing is written into node_modules', async () => {
    const dir = projects.esm;
    const setup = await run(join(dir, 'node_modules', '.bin', 'snakepit'), ['setup'], {
      cwd: dir,
      timeoutMs: 180_000,
    });
    expect(setup.stderr).toBe('');
    expect(setup.code).toBe(0);
    expect(setup.stdout).toMatch(/snakepit_bridge importable in the venv/);
    writeFileSync(
      join(dir, 'check_bridge.py'),
      `from snakepit_bridge import BaseAdapter, SessionContext, tool


class Tools(BaseAdapter):
    @tool(description="Say hello")
    def greet(self, name: str) -> str:
        return "Hello, " + name


def remember(ctx: SessionContext) -> None:
    ctx.store("k", 1)


reveal_type(Tools().greet)
`,
    );
    const pyright = await run(
      process.execPath,
      [
        join(REPO, 'node_modules', 'pyright', 'index.js'),
        '--pythonpath',
        join(dir, '.venv', 'bin', 'python'),
        '--outputjson',
        'check_bridge.py',
      ],
      { cwd: dir },
    );
    const report = JSON.parse(pyright.stdout) as {
      generalDiagnostics: Array<{ severity: string; message: string }>;
    };
    const errors = report.generalDiagnostics.filter((d) => d.severity === 'error');
    expect(errors).toEqual([]);
    const revealed = report.generalDiagnostics.find((d) => d.severity === 'information')?.message ?? '';
    expect(revealed).toContain('(name: str) -> str');
    // The venv's own Python imports it too (scripts, REPL, pytest), from the package's folder.
    const py = await run(
      join(dir, '.venv', 'bin', 'python'),
      ['-c', 'import snakepit_bridge; print(snakepit_bridge.__file__)'],
      {
        cwd: work,
      },
    );
    expect(py.stdout.trim()).toBe(
      join(dir, 'node_modules', 'snakepit', 'python', 'snakepit_bridge', '__init__.py'),
    );
    // Installing the folder with pip (a container image does) builds from it without writing into it.
    const target = join(work, 'pip-target');
    const pip = await run(
      join(dir, '.venv', 'bin', 'python'),
      ['-m', 'pip', 'install', '--no-deps', '--target', target, './node_modules/snakepit/python'],
      { cwd: dir, timeoutMs: 180_000 },
    );
    expect(pip.code, pip.stdout + pip.stderr).toBe(0);
    expect(existsSync(join(target, 'snakepit_bridge', 'py.typed'))).toBe(true);
    expect(existsSync(join(target, 'snakepit_bridge', 'remote', 'snakepit_bridge.proto'))).toBe(true);
    const bridge = walk(join(dir, 'node_modules', 'snakepit', 'python'));
    expect(bridge.filter((f) => /(^|\/)(build\/|dist\/|[^/]*\.egg-info\/)/.test(f))).toEqual([]);
  }, 300_000);
});
