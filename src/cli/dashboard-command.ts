/**
 * `snakepit dashboard --config FILE`: start every pool of a config file at its configured size, serve the
 * dashboard, and run until Ctrl-C (or SIGTERM), which closes the pools and the page.
 */
import type { Command } from 'commander';
import type { SnakepitConfig } from '../config/config-types.js';
import { ConfigError } from '../errors/errors.js';
import { Snakepit } from '../snakepit.js';
import { cliLogger } from './cli-config.js';
import { loadConfigFile } from './config-file.js';
import { reportError } from './output.js';

interface DashboardFlags {
  config?: string;
  port: string;
  host: string;
  token?: string;
  verbose?: boolean;
}

export function registerDashboard(program: Command): void {
  program
    .command('dashboard')
    .summary("start a config file's pools and serve their live dashboard")
    .description(
      'Start every pool of the config file (at its configured size) and serve the dashboard: a web page of ' +
        'the pools, workers, queue, throughput, latency, sessions and recent errors, its JSON and events ' +
        '(for `snakepit top`) and /metrics. Runs until Ctrl-C.',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  npx snakepit dashboard --config snakepit.config.json          # http://127.0.0.1:7433/\n' +
        '  npx snakepit dashboard --port 0                                # any free port\n' +
        '  npx snakepit dashboard --host 0.0.0.0 --token "$TOKEN"         # reachable from elsewhere\n',
    )
    .option('-c, --config <file>', 'config file (default: ./snakepit.config.{ts,js,json} when present)')
    .option('--port <port>', 'port to listen on (0: any free port)', '7433')
    .option('--host <address>', 'address to listen on; anything but loopback requires a token', '127.0.0.1')
    .option(
      '--token <token>',
      'token viewers must send (default: $SNAKEPIT_DASHBOARD_TOKEN; generated off loopback)',
    )
    .option('--verbose', "show the workers' logs (stdout/stderr of Python)")
    .action(async (flags: DashboardFlags) => {
      try {
        await runDashboard(flags);
      } catch (err) {
        reportError(err);
      }
    });
}

async function runDashboard(flags: DashboardFlags): Promise<void> {
  const port = Number(flags.port);
  if (!/^\d+$/.test(flags.port) || port > 65535) {
    throw new ConfigError('--port', `must be a port number from 0 to 65535, got ${flags.port}`);
  }
  const { path, config } = await loadConfigFile(process.cwd(), flags.config);
  if (!config || !path) {
    throw new ConfigError(
      '--config',
      'no config file: pass --config FILE or write snakepit.config.json (e.g. {"adapter": "my_pkg.adapter:MyAdapter"})',
    );
  }
  const full: SnakepitConfig = { logger: cliLogger(Boolean(flags.verbose)), ...config, handleSignals: true };
  const pit = await Snakepit.start(full);
  try {
    const token = flags.token ?? process.env['SNAKEPIT_DASHBOARD_TOKEN'];
    const dashboard = await pit.dashboard({ port, host: flags.host, ...(token ? { token } : {}) });
    const pools = Object.keys(pit.stats()).join(', ');
    process.stdout.write(
      `snakepit dashboard: ${dashboard.url}\npools: ${pools} (from ${path}); Ctrl-C stops\n`,
    );
  } catch (err) {
    await pit.close();
    throw err;
  }
  // The pools close on SIGINT/SIGTERM (handleSignals), and the dashboard with them; then the process exits.
}
