// The audit modules and the auditor's CLI (`npm run audit`) can be given to anyone, including the SFU's
// operator: they must not be able to derive or use a media key. Follow every import from
// server/src/audit and server/src/cli/audit.ts and check that the only SFrame library files reached are
// the key-free ones (header codec, suite table, KID layout). The one package allowed besides node's
// own is zod, which validates the stream map file.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const AUDIT = path.join(ROOT, 'server/src/audit');
const AUDIT_CLI = path.join(ROOT, 'server/src/cli/audit.ts');
const KEY_FREE_SFRAME_FILES = ['bytes.ts', 'errors.ts', 'header.ts', 'mlsKid.ts', 'suites.ts'].map((f) =>
  path.join(ROOT, 'crypto-worker/src/sframe', f),
);

/** Resolves the imports this repository uses: relative paths and `@conclave/crypto-worker/<path>`. */
function resolveImport(from: string, specifier: string): string | undefined {
  if (specifier.startsWith('.')) return path.resolve(path.dirname(from), specifier);
  const workspace = /^@conclave\/crypto-worker\/(.+)$/.exec(specifier);
  if (workspace !== null) {
    const sub = workspace[1]!;
    return path.join(ROOT, 'crypto-worker/src', sub === 'sframe' ? 'sframe/index.ts' : `${sub}.ts`);
  }
  expect(specifier, `unexpected package import from ${from}`).toMatch(/^(node:|zod$)/);
  return undefined;
}

function reachable(entries: string[]): Set<string> {
  const seen = new Set<string>();
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = fs.readFileSync(file, 'utf8');
    for (const match of source.matchAll(/^(?:import|export)[^'"]*?from\s+'([^']+)'/gms)) {
      const resolved = resolveImport(file, match[1]!);
      if (resolved !== undefined) queue.push(resolved);
    }
  }
  return seen;
}

describe('server/src/audit', () => {
  it('reaches only key-free parts of the SFrame library', () => {
    const entries = [...fs.readdirSync(AUDIT).map((f) => path.join(AUDIT, f)), AUDIT_CLI];
    const files = [...reachable(entries)];
    const outside = files.filter((f) => !f.startsWith(AUDIT + path.sep) && f !== AUDIT_CLI).sort();
    expect(outside).toEqual([...KEY_FREE_SFRAME_FILES].sort());
  });
});
