// key-service/ is a library: nothing in it imports back up into the app that uses it. Every import of
// every file under key-service/src is read (import/export … from, side-effect and dynamic imports,
// type-only ones too): relative ones must stay inside key-service/src, workspace ones may name only
// @conclave/common, and every other package must be one key-service/package.json declares. The
// process around the standalone key service lives in server/src/cli/keyService.ts.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importSpecifiers, importsOf, packageName, sourceFiles } from '../../support/sourceImports.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const LIBRARY = path.join(ROOT, 'key-service/src');
describe('key-service/src', () => {
  const files = sourceFiles(LIBRARY);
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'key-service/package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
    peerDependencies?: Record<string, string>;
  };

  it('is read whole: the walk sees the server room logic and the client', () => {
    const names = files.map((f) => path.relative(ROOT, f));
    expect(names).toEqual(
      expect.arrayContaining([
        'key-service/src/server/key-service.ts',
        'key-service/src/client/key-client.ts',
        'key-service/src/protocol.ts',
      ]),
    );
  });

  it('imports nothing outside itself but @conclave/common and the packages it declares', () => {
    const declared = new Set([
      ...Object.keys(manifest.dependencies),
      ...Object.keys(manifest.peerDependencies ?? {}),
    ]);
    const outside: string[] = [];
    for (const file of files) {
      for (const specifier of importsOf(file)) {
        const where = `${path.relative(ROOT, file)}: ${specifier}`;
        if (specifier.startsWith('.')) {
          const target = path.resolve(path.dirname(file), specifier);
          if (!target.startsWith(LIBRARY + path.sep)) outside.push(where);
        } else if (specifier.startsWith('@conclave/')) {
          if (packageName(specifier) !== '@conclave/common') outside.push(where);
        } else if (!specifier.startsWith('node:') && !declared.has(packageName(specifier))) {
          outside.push(where);
        }
      }
    }
    expect(outside).toEqual([]);
  });

  it('would see an import of the server: the check is not vacuous', () => {
    const probe = `import { loadConfig } from '@conclave/server/config';\nimport x from '../../server/src/main.ts';\n`;
    const specifiers = importSpecifiers(probe);
    expect(specifiers).toEqual(['@conclave/server/config', '../../server/src/main.ts']);
    expect(packageName(specifiers[0]!)).not.toBe('@conclave/common');
  });
});
