/**
 * `snakepit top`: the dashboard in a terminal, refreshed in place — for an SSH session on the machine that runs
 * the host. It attaches to a running dashboard's `/api/events` (TopClient) and draws `renderTop`'s lines on the
 * alternate screen; `q` or Ctrl-C leaves and gives the terminal back as it was.
 */
import type { Command } from 'commander';
import type { DashboardSnapshot } from '../dashboard/dashboard-types.js';
import { TopClient } from '../dashboard/top-client.js';
import { renderTop, type TopLine } from '../dashboard/top-view.js';
import { reportError } from './output.js';

interface TopFlags {
  url?: string;
  token?: string;
  once?: boolean;
  json?: boolean;
}

const DEFAULT_URL = 'http://127.0.0.1:7433/';
const CSI = '\u001b[';
/** Alternate screen, cursor hidden, no line wrap (a long line is cut, not folded onto the next). */
const ENTER = `${CSI}?1049h${CSI}?25l${CSI}?7l`;
const LEAVE = `${CSI}?7h${CSI}?25h${CSI}?1049l`;
const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export function registerTop(program: Command): void {
  program
    .command('top')
    .summary("watch a running host's pools in the terminal")
    .description(
      'Attach to a running dashboard (pit.dashboard() or `snakepit dashboard`) and show its pools, workers, ' +
        'queue, throughput, latency, sessions and recent errors, refreshed in place. q quits.',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  npx snakepit top                                   # the dashboard on 127.0.0.1:7433\n' +
        '  npx snakepit top --url http://127.0.0.1:9000/ --token "$TOKEN"\n' +
        '  npx snakepit top --once                            # print one screen and exit\n',
    )
    .option(
      '--url <address>',
      `the dashboard's address (default: $SNAKEPIT_DASHBOARD_URL, else ${DEFAULT_URL})`,
    )
    .option('--token <token>', 'its token (default: $SNAKEPIT_DASHBOARD_TOKEN, or ?token= in the address)')
    .option('--once', 'print one screen and exit')
    .option('--json', 'print the snapshot as JSON and exit')
    .action(async (flags: TopFlags) => {
      try {
        await runTop(flags);
      } catch (err) {
        reportError(err);
      }
    });
}

async function runTop(flags: TopFlags): Promise<void> {
  const out = process.stdout;
  let status = 'connecting';
  let latest: DashboardSnapshot | undefined;
  let draw: () => void = () => {};
  const client = new TopClient({
    url: flags.url ?? process.env['SNAKEPIT_DASHBOARD_URL'] ?? DEFAULT_URL,
    token: flags.token ?? process.env['SNAKEPIT_DASHBOARD_TOKEN'],
    onChange: (snapshot) => {
      latest = snapshot;
      draw();
    },
    onStatus: (s) => {
      status = s;
      draw();
    },
  });
  const first = await client.connect();
  const screen = !(flags.json || flags.once || !out.isTTY);
  const view = (): TopLine[] =>
    renderTop(latest ?? first, {
      // A terminal that reports no size (some pseudo-terminals) gets a common one; printed output is not cut.
      columns: screen ? out.columns || 100 : (out.columns ?? 1000),
      rows: screen ? out.rows || 40 : Infinity,
      source: client.address,
      status,
      footer: screen,
    });
  if (!screen) {
    client.close();
    out.write(
      flags.json
        ? `${JSON.stringify(first, null, 2)}\n`
        : `${view()
            .map((l) => l.text)
            .join('\n')}\n`,
    );
    return;
  }
  await new Promise<void>((resolve) => {
    let pending: NodeJS.Timeout | undefined;
    draw = () => {
      // Updates arrive together with status changes: draw once per burst.
      pending ??= setTimeout(() => {
        pending = undefined;
        out.write(frame(view()));
      }, 20);
    };
    const quit = (): void => {
      clearTimeout(pending);
      client.close();
      out.off('resize', draw);
      for (const sig of SIGNALS) process.off(sig, quit);
      if (process.stdin.isTTY) process.stdin.setRawMode(false);
      process.stdin.pause();
      out.write(LEAVE);
      resolve();
    };
    out.write(ENTER);
    out.on('resize', draw);
    // Ctrl-C arrives as a key in raw mode, as SIGINT when stdin is not the terminal.
    for (const sig of SIGNALS) process.on(sig, quit);
    if (process.stdin.isTTY) process.stdin.setRawMode(true);
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (key: string) => {
      if (key === 'q' || key === 'Q' || key === '\u0003' || key === '\u0004') quit();
    });
    process.stdin.resume();
    draw();
  });
}

const STYLE: Record<NonNullable<TopLine['style']>, [string, string]> = {
  title: [`${CSI}7m`, `${CSI}27m`],
  header: [`${CSI}1m`, `${CSI}22m`],
  dim: [`${CSI}2m`, `${CSI}22m`],
  bad: [`${CSI}31m`, `${CSI}39m`],
  warn: [`${CSI}33m`, `${CSI}39m`],
};

/** One screen: from the top-left corner, each line then erase-to-end-of-line, then erase below. */
function frame(lines: TopLine[]): string {
  const color = !process.env['NO_COLOR'];
  const body = lines.map((l) => {
    const style =
      l.style && (color || l.style === 'title' || l.style === 'header') ? STYLE[l.style] : undefined;
    return `${style ? style[0] : ''}${l.text}${style ? style[1] : ''}${CSI}K`;
  });
  return `${CSI}H${body.join('\r\n')}${CSI}J`;
}
