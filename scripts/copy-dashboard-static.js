// Part of `npm run build`: tsc compiles only TypeScript, so the dashboard's page (plain HTML, JS and CSS, served
// as they are) is copied next to the compiled server, which reads it from ./static/.
import { cpSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
cpSync(join(root, 'src', 'dashboard', 'static'), join(root, 'dist', 'src', 'dashboard', 'static'), {
  recursive: true,
});
