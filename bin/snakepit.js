#!/usr/bin/env node
// The CLI entry: runs the compiled command-line program (npm run build produces dist/).
import('../dist/src/cli/main.js')
  .then((cli) => cli.main(process.argv))
  .catch((err) => {
    if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/src/cli')) {
      console.error('snakepit: the package is not built; run `npm run build` first');
    } else {
      console.error(err && err.stack ? err.stack : err);
    }
    process.exitCode = 1;
  });
