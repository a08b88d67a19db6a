/**
 * The repository carries its own documentation: every `docs/*.md` that code, tests, the bench or
 * the scripts cite exists in the repository, and nothing cites notes kept outside it.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FOLDERS = ['src', 'test', 'bench', 'scripts', '.ci'];
/** Notes that lived outside the repository once; cite docs/ instead. */
const OUTSIDE = /\b(INTEROP|DESIGN)\.md\b|\/work\/shared\b/;

function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : files(path);
    return /\.(ts|mjs|js|sh)$|^run$/.test(name) ? [path] : [];
  });
}

describe('documentation citations', () => {
  const sources = FOLDERS.flatMap((folder) => files(join(ROOT, folder)));

  test('every docs/*.md cited exists, and nothing outside the repository is cited', () => {
    assert.ok(sources.length > 50, 'the sources were read');
    const problems: string[] = [];
    let cited = 0;
    for (const file of sources) {
      const text = readFileSync(file, 'utf8');
      const name = relative(ROOT, file);
      if (OUTSIDE.test(text) && !name.endsWith('docs-citations.test.ts')) {
        problems.push(`${name} cites a note outside the repository`);
      }
      for (const match of text.matchAll(/\bdocs\/([a-z0-9-]+\.md)\b/g)) {
        cited++;
        if (!existsSync(join(ROOT, 'docs', match[1]!)))
          problems.push(`${name} cites missing docs/${match[1]}`);
      }
    }
    assert.deepEqual(problems, []);
    assert.ok(cited > 0, 'some docs are cited');
  });

  test('relative links in README.md and docs/*.md point to files that exist', () => {
    const pages = [
      join(ROOT, 'README.md'),
      ...readdirSync(join(ROOT, 'docs'))
        .filter((name) => name.endsWith('.md'))
        .map((name) => join(ROOT, 'docs', name)),
    ];
    assert.ok(pages.length >= 5, 'README and the docs pages were found');
    const broken: string[] = [];
    for (const page of pages) {
      for (const match of readFileSync(page, 'utf8').matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
        const target = match[1]!;
        if (/^[a-z]+:/.test(target)) continue; // https:, mailto:
        if (!existsSync(join(dirname(page), target))) broken.push(`${relative(ROOT, page)} → ${target}`);
      }
    }
    assert.deepEqual(broken, []);
  });
});
