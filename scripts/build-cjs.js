// Part of `npm run build`: the CommonJS entry (`require('snakepit')`) beside the ES module build that tsc makes.
//
// - dist/cjs/index.cjs: dist/src/index.js bundled by esbuild as one CommonJS file; dependencies stay external
//   (required, or imported on demand for the optional ones), and `import.meta.url` becomes this file's URL, so
//   the code that walks up to the package's python/ folder works the same from here.
// - dist/cjs/**/*.d.cts: the declarations again, with CommonJS extensions, so TypeScript in a CommonJS project
//   (`module: nodenext`) sees CommonJS types for the CommonJS entry.
import { build } from 'esbuild';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const esm = join(root, 'dist', 'src');
const out = join(root, 'dist', 'cjs');
rmSync(out, { recursive: true, force: true });

await build({
  entryPoints: [join(esm, 'index.js')],
  outfile: join(out, 'index.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  packages: 'external',
  define: { 'import.meta.url': '__snakepit_module_url' },
  banner: { js: "const __snakepit_module_url = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});
// The dashboard's page is read from ./static/ beside the module that serves it.
cpSync(join(root, 'src', 'dashboard', 'static'), join(out, 'static'), { recursive: true });

/** Every .d.ts under dir. */
function declarations(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return declarations(path);
    return entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

// Relative specifiers in declarations: `from './x.js'` and `import('./x.js')` name the .cjs twin.
const SPECIFIER = /((?:from\s+|import\s*\(\s*)['"])(\.{1,2}\/[^'"]*?)\.js(['"])/g;
for (const file of declarations(esm)) {
  const target = join(out, relative(esm, file)).replace(/\.d\.ts$/, '.d.cts');
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, readFileSync(file, 'utf8').replace(SPECIFIER, '$1$2.cjs$3'));
}
