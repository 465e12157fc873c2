// "Nothing imports back up": the web client's e2ee layer (web/src/lib/e2ee/) is a library the
// meeting uses, so none of its files imports the meeting (web/src/lib/meeting/), the components or
// anything else of the app above it. Chat and hands reach the meeting through GroupChannel.ts.
//
// Imports are read statically (import/export … from, side-effect imports, dynamic import of a
// literal); relative specifiers are resolved against the importing file.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importSpecifiers, importsOf, sourceFiles } from '../../support/sourceImports.ts';

const WEB_LIB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../web/src/lib');
const E2EE = path.join(WEB_LIB, 'e2ee');

/** Relative imports of `file` that leave web/src/lib/e2ee/. */
function importsOutsideE2ee(file: string): string[] {
  return importsOf(file)
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => path.resolve(path.dirname(file), specifier))
    .filter((target) => !target.startsWith(E2EE + path.sep))
    .map((target) => path.relative(WEB_LIB, target));
}

describe('the web e2ee layer', () => {
  const files = sourceFiles(E2EE, /\.(ts|svelte)$/);

  it('has the files this test walks (MeetingEncryption and its channel among them)', () => {
    const names = files.map((f) => path.basename(f));
    expect(names).toContain('MeetingEncryption.svelte.ts');
    expect(names).toContain('GroupChannel.ts');
  });

  it('imports nothing of the app above it: no meeting/, no components', () => {
    const upward = files.flatMap((file) =>
      importsOutsideE2ee(file).map((target) => `${path.relative(WEB_LIB, file)} -> ${target}`),
    );
    expect(upward).toEqual([]);
  });

  it('notices an import back up (the walk is not blind)', () => {
    const probe = path.join(E2EE, 'probe.ts');
    const specifier = "import { withHand } from '../meeting/raisedHands.ts';";
    const found = importSpecifiers(specifier).map((m) =>
      path.relative(WEB_LIB, path.resolve(path.dirname(probe), m)),
    );
    expect(found).toEqual([path.join('meeting', 'raisedHands.ts')]);
  });
});
