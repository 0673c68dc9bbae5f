/**
 * Turning a run's raw samples into the Markdown tables and SVG chart of docs/PERFORMANCE.md.
 */

export interface Row {
  /** e.g. "(a) sequential trivial call, p50 µs" */
  label: string;
  /** 'higher' when more is better (calls/s), 'lower' when less is (µs, ms, MB). */
  better: 'higher' | 'lower';
  /** Per system: the samples over rounds, or a note when not applicable / failed. */
  cells: Record<string, number[] | string>;
  /** Include in the chart. */
  chart?: boolean;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

export function fmt(v: number): string {
  if (!Number.isFinite(v)) return '–';
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

function cellText(cell: number[] | string | undefined): string {
  if (cell === undefined) return '–';
  if (typeof cell === 'string') return cell;
  if (cell.length === 1) return fmt(cell[0]!);
  return `${fmt(median(cell))} (${fmt(Math.min(...cell))}–${fmt(Math.max(...cell))})`;
}

export function markdownTable(header: string[], rows: string[][]): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  return [
    `| ${header.map(esc).join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

export function resultsTable(rows: Row[], systems: Array<{ id: string; label: string }>): string {
  return markdownTable(
    ['workload', ...systems.map((s) => s.label)],
    rows.map((r) => {
      const best = bestOf(r);
      return [
        r.label,
        ...systems.map((s) => {
          const text = cellText(r.cells[s.id]);
          const c = r.cells[s.id];
          return Array.isArray(c) && best !== undefined && median(c) === best ? `**${text}**` : text;
        }),
      ];
    }),
  );
}

function bestOf(row: Row): number | undefined {
  const medians = Object.values(row.cells)
    .filter((c): c is number[] => Array.isArray(c) && c.length > 0)
    .map(median);
  if (!medians.length) return undefined;
  return row.better === 'higher' ? Math.max(...medians) : Math.min(...medians);
}

const COLORS = ['#2f6fdf', '#7aa6f0', '#8a8a8a', '#e0812f', '#4bab5b', '#b05bc0', '#c9a227'];

/** Grouped bars, one group per charted row, one bar per system: speed relative to the best system (1 = best). */
export function svgChart(rows: Row[], systems: Array<{ id: string; label: string }>, title: string): string {
  const charted = rows.filter((r) => r.chart);
  const barW = 14;
  const groupW = systems.length * barW + 30;
  const left = 60;
  const top = 40;
  const h = 220;
  const width = left + charted.length * groupW + 20;
  const legendY = top + h + 80;
  const height = legendY + Math.ceil(systems.length / 3) * 18 + 10;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="20" font-size="14" font-weight="bold">${title}</text>`,
    `<text x="${left}" y="34" fill="#555">bar height: speed relative to the best system on that workload (taller is better)</text>`,
  ];
  for (const f of [0, 0.25, 0.5, 0.75, 1]) {
    const y = top + h - f * h;
    parts.push(`<line x1="${left}" x2="${width - 10}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    parts.push(`<text x="${left - 6}" y="${y + 4}" text-anchor="end" fill="#555">${f.toFixed(2)}</text>`);
  }
  charted.forEach((row, gi) => {
    const best = bestOf(row);
    const gx = left + gi * groupW + 10;
    systems.forEach((s, si) => {
      const c = row.cells[s.id];
      const x = gx + si * barW;
      if (!Array.isArray(c) || !c.length || best === undefined) {
        parts.push(
          `<text x="${x + barW / 2}" y="${top + h - 4}" text-anchor="middle" fill="#999" font-size="9">–</text>`,
        );
        return;
      }
      const m = median(c);
      const rel = row.better === 'higher' ? m / best : best / m;
      const bh = Math.max(1, rel * h);
      parts.push(
        `<rect x="${x}" y="${top + h - bh}" width="${barW - 2}" height="${bh}" fill="${COLORS[si % COLORS.length]}"><title>${s.label}: ${fmt(m)}</title></rect>`,
      );
    });
    const label = row.label.replace(/,.*$/, '');
    parts.push(
      `<text x="${gx + (systems.length * barW) / 2}" y="${top + h + 14}" text-anchor="middle" font-size="10">${label}</text>`,
    );
  });
  systems.forEach((s, i) => {
    const x = left + (i % 3) * 220;
    const y = legendY + Math.floor(i / 3) * 18;
    parts.push(`<rect x="${x}" y="${y - 9}" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/>`);
    parts.push(`<text x="${x + 14}" y="${y}">${s.label}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
