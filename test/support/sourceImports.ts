// Reading a source tree's imports as text, for the tests that hold the packages' import rules
// (key-free server and audit, key-service as a library, e2ee below meeting, crypto-worker's entries).
// What is read: `import`/`export … from`, side-effect imports and dynamic imports of a literal, type-only
// ones too. Specifiers built at run time are not followed; the code base has none.
import fs from 'node:fs';
import path from 'node:path';

const IMPORT_PATTERNS = [
  /^\s*(?:import|export)[^'"]*?from\s+'([^']+)'/gms,
  /^\s*import\s+'([^']+)'/gm,
  /\bimport\(\s*'([^']+)'\s*\)/g,
];

/** Every file under `dir`, recursively, whose name matches `pattern` (TypeScript by default). */
export function sourceFiles(dir: string, pattern: RegExp = /\.ts$/): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && pattern.test(entry.name))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

/** Every import specifier written in `source` (a file's text), in the order the patterns find them. */
export function importSpecifiers(source: string): string[] {
  return IMPORT_PATTERNS.flatMap((pattern) => [...source.matchAll(pattern)].map((m) => m[1]!));
}

/** Every import specifier written in `file`. */
export function importsOf(file: string): string[] {
  return importSpecifiers(fs.readFileSync(file, 'utf8'));
}

/** The package a bare specifier names: `@scope/name` or `name`. */
export const packageName = (specifier: string): string => specifier.replace(/^((?:@[^/]+\/)?[^/]+).*$/, '$1');
