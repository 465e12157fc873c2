// @conclave/crypto-worker's public surface is its package.json "exports", named one by one (no
// "./*" pattern), so "the server never derives keys" holds as a package boundary: the server and
// the audit tools may import only the key-free entries (`./sframe/wire`: header, suites, KID
// layout, errors; `./sframe/mlsKid`; `./h264/parse`); the SFrame library with its key schedule (`./sframe`), the
// main-thread client (`./client`) and the worker (`./worker`) are for the browser's side.
// test/unit/audit/keyFree.test.ts checks the same rule file by file, through the graph.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { sourceFiles } from '../../support/sourceImports.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const PACKAGE = path.join(ROOT, 'crypto-worker');
const exportsMap = (
  JSON.parse(fs.readFileSync(path.join(PACKAGE, 'package.json'), 'utf8')) as {
    exports: Record<string, string>;
  }
).exports;

/** Entries that hold no key and derive none: what server/ may import. */
const KEY_FREE_ENTRIES = new Set(['./sframe/wire', './h264/parse']);

/** Every `@conclave/crypto-worker/<entry>` that files under `dir` import, as './<entry>'. */
function entriesImportedBy(dir: string): string[] {
  const specifiers = sourceFiles(dir).flatMap((file) =>
    [...fs.readFileSync(file, 'utf8').matchAll(/['"]@conclave\/crypto-worker(\/[^'"]*)?['"]/g)].map(
      (m) => `.${m[1] ?? ''}`,
    ),
  );
  return [...new Set(specifiers)].sort();
}

describe('@conclave/crypto-worker exports', () => {
  it('names every entry explicitly, each an existing file', () => {
    expect(Object.keys(exportsMap).filter((key) => key.includes('*'))).toEqual([]);
    for (const [entry, target] of Object.entries(exportsMap)) {
      expect(fs.existsSync(path.join(PACKAGE, target)), `${entry} -> ${target}`).toBe(true);
    }
    expect(exportsMap).toMatchObject({
      './client': './src/client/index.ts',
      './worker': './src/worker.ts',
      './protocol': './src/protocol.ts',
      './sframe': './src/sframe/index.ts',
    });
  });

  it('gives the server and the audit tools only key-free entries', () => {
    for (const dir of ['server/src', 'audit/src']) {
      const used = entriesImportedBy(path.join(ROOT, dir));
      expect(used.length, dir).toBeGreaterThan(0); // the walk is not vacuous
      expect(
        used.filter((entry) => !KEY_FREE_ENTRIES.has(entry)),
        dir,
      ).toEqual([]);
    }
  });

  it('gives the web app the client, never the worker by import (Vite bundles it from a URL)', () => {
    const used = entriesImportedBy(path.join(ROOT, 'web/src'));
    expect(used).toContain('./client');
    expect(used).not.toContain('./worker');
  });
});
