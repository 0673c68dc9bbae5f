// Links in the docs lead somewhere. README.md is also the package's page on npm, where relative links break: its
// links are absolute, into this repository (the package.json `repository`), and each names a file that exists
// here. The docs/ pages link relatively, each to a file that exists; no page cites a file outside the repository.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../cli/cli-helpers.js';

const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
  repository: { url: string };
  homepage: string;
};
const REPOSITORY = pkg.repository.url.replace(/^git\+/, '').replace(/\.git$/, '');

/** Markdown link targets outside code blocks and code spans: `[text](target)` and `![alt](target)`. */
function links(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!);
}

const pages = [
  'README.md',
  'CHANGELOG.md',
  ...readdirSync(join(REPO, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

describe('links', () => {
  it('the package.json repository is a GitHub URL and the homepage is on it', () => {
    expect(REPOSITORY).toMatch(/^https:\/\/github\.com\/[\w.-]+\/[\w.-]+$/);
    expect(pkg.homepage.startsWith(REPOSITORY)).toBe(true);
  });

  it('README.md links only absolutely, and its links into the repository name files that exist', () => {
    const found = links(readFileSync(join(REPO, 'README.md'), 'utf8'));
    expect(found.length).toBeGreaterThan(10);
    const relative = found.filter((l) => !/^(https?:|mailto:|#)/.test(l));
    expect(relative, 'relative links break on npm').toEqual([]);
    const missing = found
      .filter((l) => l.startsWith(`${REPOSITORY}/`))
      .map((l) => l.slice(REPOSITORY.length + 1).split('#')[0]!)
      .map((rest) => /^(?:blob|tree|raw)\/main\/(.+)$/.exec(rest)?.[1] ?? `(not a file link: ${rest})`)
      .filter((path) => !existsSync(join(REPO, path)));
    expect(missing).toEqual([]);
  });

  it.each(pages.filter((p) => p !== 'README.md'))('%s: relative links name files that exist', (page) => {
    const base = join(REPO, page, '..');
    const missing = links(readFileSync(join(REPO, page), 'utf8'))
      .filter((l) => !/^(https?:|mailto:|#)/.test(l))
      .map((l) => l.split('#')[0]!)
      .filter((path) => !existsSync(join(base, path)));
    expect(missing).toEqual([]);
  });

  it('no page cites design notes that are not in the repository', () => {
    for (const page of pages) {
      expect(readFileSync(join(REPO, page), 'utf8'), page).not.toMatch(/DESIGN\.md|STYLE\.md|\.\.\/shared\//);
    }
  });
});
