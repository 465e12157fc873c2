// No key can be derived by what the server runs, nor by what the auditor runs.
//
// - The audit workspace (audit/, @conclave/audit) can be given to anyone, including the SFU's
//   operator: it reaches only the key-free files of the SFrame library (header codec, suite table,
//   KID layout, errors, byte helpers), through `@conclave/crypto-worker/sframe/wire`, and the H.264
//   parsers (Annex B, emulation prevention, slice header start; crypto-worker/src/h264, all but
//   h264Frame.ts), through `@conclave/crypto-worker/h264/parse`; besides those only
//   @conclave/common, node's own modules and zod (the stream map). Nothing of MLS, and nothing of
//   the server: the server depends on the audit, never the other way round.
// - The auditor's CLI as `npm run audit` runs it (server/src/cli/audit.ts: the audit's CLI plus the
//   server's side of capture, which mints the audit token) reaches no more of the SFrame library,
//   nothing of MLS, and no package besides node's own, zod and jose (the audit token, an HMAC).
// - The server's whole import graph, from its entry server/src/main.ts, reaches none of the SFrame
//   key schedule, AEAD or sender/receiver contexts, none of the crypto worker, and not the MLS client
//   (key-service/src/client, which exports SFrame base keys from MLS epochs). The key service it
//   mounts relays MLS messages and checks signatures; it is reached, and is allowed to be.
//
// Imports are followed statically (import/export … from, side-effect imports, dynamic import of a
// literal), through the workspaces' package.json "exports"; other packages are listed, not entered.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importsOf, packageName, sourceFiles } from '../../support/sourceImports.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const AUDIT = path.join(ROOT, 'audit');
const AUDIT_SRC = path.join(AUDIT, 'src');
/** What `npm run audit` runs (root package.json). */
const AUDIT_CLI = path.join(ROOT, 'server/src/cli/audit.ts');
const SERVER_MAIN = path.join(ROOT, 'server/src/main.ts');
const SFRAME = path.join(ROOT, 'crypto-worker/src/sframe');
const KEY_FREE_SFRAME_FILES = ['bytes.ts', 'errors.ts', 'header.ts', 'mlsKid.ts', 'suites.ts', 'wire.ts'].map(
  (f) => path.join(SFRAME, f),
);
/** H.264 parsing the audit needs; h264Frame.ts (which seals and opens) is not among them. */
const KEY_FREE_H264_FILES = ['annexB.ts', 'emulationPrevention.ts', 'parse.ts', 'sliceHeader.ts'].map((f) =>
  path.join(ROOT, 'crypto-worker/src/h264', f),
);
/** The only ways into the crypto worker's package the audit may take. */
const AUDIT_CRYPTO_WORKER_ENTRIES = [
  '@conclave/crypto-worker/sframe/wire',
  '@conclave/crypto-worker/h264/parse',
];
/** Files that derive or use SFrame keys: the key schedule, AEADs, contexts, and their entry points. */
const KEY_DERIVING_FILES = [
  'crypto-worker/src/sframe/keySchedule.ts',
  'crypto-worker/src/sframe/aead.ts',
  'crypto-worker/src/sframe/backend.ts',
  'crypto-worker/src/sframe/noble.ts',
  'crypto-worker/src/sframe/webcrypto.ts',
  'crypto-worker/src/sframe/frame.ts',
  'crypto-worker/src/sframe/senderContext.ts',
  'crypto-worker/src/sframe/receiverKeyRing.ts',
  'crypto-worker/src/sframe/index.ts',
  'crypto-worker/src/service.ts',
  'crypto-worker/src/transform.ts',
  'crypto-worker/src/worker.ts',
  'crypto-worker/src/h264/h264Frame.ts',
  'key-service/src/client/key-client.ts',
  'key-service/src/client/group.ts',
  'key-service/src/client/epoch-adoption.ts',
  'key-service/src/client/index.ts',
].map((f) => path.join(ROOT, f));

const WORKSPACES: Record<string, string> = {
  '@conclave/audit': 'audit',
  '@conclave/common': 'common',
  '@conclave/server': 'server',
  '@conclave/crypto-worker': 'crypto-worker',
  '@conclave/key-service': 'key-service',
};

/** A workspace import through its package.json "exports" ("./x" exactly, or the "./*" pattern). */
function resolveWorkspace(specifier: string): string | undefined {
  const match = /^(@conclave\/[^/]+)(?:\/(.+))?$/.exec(specifier);
  const dir = match === null ? undefined : WORKSPACES[match[1]!];
  if (match === null || dir === undefined) return undefined;
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, dir, 'package.json'), 'utf8')) as {
    exports: Record<string, string>;
  };
  const sub = `./${match[2] ?? ''}`;
  const exact = pkg.exports[sub];
  if (exact !== undefined) return path.join(ROOT, dir, exact);
  const pattern = pkg.exports['./*'];
  if (pattern === undefined) throw new Error(`${specifier}: no export`);
  return path.join(ROOT, dir, pattern.replace('*', match[2]!));
}

interface Graph {
  files: Set<string>;
  packages: Set<string>;
  /** Every `@conclave/…` specifier imported, and the files that import it. */
  workspaceImports: Map<string, Set<string>>;
}

function importGraph(entries: string[]): Graph {
  const files = new Set<string>();
  const packages = new Set<string>();
  const workspaceImports = new Map<string, Set<string>>();
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const specifier of importsOf(file)) {
      if (specifier.startsWith('.')) queue.push(path.resolve(path.dirname(file), specifier));
      else if (specifier.startsWith('@conclave/')) {
        queue.push(resolveWorkspace(specifier)!);
        workspaceImports.set(specifier, (workspaceImports.get(specifier) ?? new Set()).add(file));
      } else if (!specifier.startsWith('node:')) packages.add(packageName(specifier));
    }
  }
  return { files, packages, workspaceImports };
}

const relative = (files: Iterable<string>) => [...files].map((f) => path.relative(ROOT, f)).sort();
const under = (files: Iterable<string>, dir: string) =>
  [...files].filter((f) => f.startsWith(dir + path.sep));

describe('the audit workspace (audit/, @conclave/audit)', () => {
  const { files, packages, workspaceImports } = importGraph(sourceFiles(AUDIT_SRC));

  it('reaches only the SFrame wire helpers, the H.264 parsers, @conclave/common and zod', () => {
    expect(relative(under(files, path.join(ROOT, 'crypto-worker')))).toEqual(
      relative([...KEY_FREE_SFRAME_FILES, ...KEY_FREE_H264_FILES]),
    );
    const outside = [...files].filter((f) => !f.startsWith(AUDIT + path.sep));
    expect(
      relative(outside.filter((f) => !f.startsWith(path.join(ROOT, 'crypto-worker') + path.sep))),
    ).toEqual(relative(outside.filter((f) => f.startsWith(path.join(ROOT, 'common/src') + path.sep))));
    expect(relative(under(files, path.join(ROOT, 'server')))).toEqual([]);
    expect(relative(under(files, path.join(ROOT, 'key-service')))).toEqual([]);
    expect([...packages].sort()).toEqual(['zod']);
  });

  it('enters the crypto worker only through sframe/wire and h264/parse', () => {
    const fromAudit = [...workspaceImports]
      .filter(([, importers]) => [...importers].some((f) => f.startsWith(AUDIT + path.sep)))
      .map(([specifier]) => specifier)
      .filter((specifier) => specifier.startsWith('@conclave/crypto-worker'));
    expect(fromAudit.sort()).toEqual([...AUDIT_CRYPTO_WORKER_ENTRIES].sort());
  });

  it('walks the whole workspace: the verifier, the capture command and the CLI are in the graph', () => {
    expect(relative(files)).toEqual(
      expect.arrayContaining([
        'audit/src/verify.ts',
        'audit/src/cli/captureCommand.ts',
        'audit/src/cli/main.ts',
        'common/src/errors.ts',
      ]),
    );
  });
});

describe('the auditor CLI as npm run audit runs it (server/src/cli/audit.ts)', () => {
  it('reaches only key-free parts of the SFrame library, nothing of MLS, and no package but zod and jose', () => {
    const { files, packages } = importGraph([AUDIT_CLI]);
    expect(relative(under(files, path.join(ROOT, 'crypto-worker')))).toEqual(
      relative([...KEY_FREE_SFRAME_FILES, ...KEY_FREE_H264_FILES]),
    );
    expect(relative(under(files, path.join(ROOT, 'key-service')))).toEqual([]);
    expect([...packages].sort()).toEqual(['jose', 'zod']);
    // The capture half is really in the graph: the walk is not vacuous.
    expect(relative(files)).toEqual(
      expect.arrayContaining(['audit/src/cli/captureCommand.ts', 'server/src/cli/auditCaptureAccess.ts']),
    );
  });
});

describe('the server (server/src/main.ts)', () => {
  it('loads no module that derives SFrame keys, no crypto worker and no MLS client', () => {
    const { files, packages } = importGraph([SERVER_MAIN]);
    expect(relative(files).filter((f) => KEY_DERIVING_FILES.includes(path.join(ROOT, f)))).toEqual([]);
    expect(relative(under(files, path.join(ROOT, 'crypto-worker')))).toEqual(
      relative(
        [...files].filter((f) => KEY_FREE_SFRAME_FILES.includes(f) || KEY_FREE_H264_FILES.includes(f)),
      ),
    );
    expect(relative(under(files, path.join(ROOT, 'key-service/src/client')))).toEqual([]);
    // The walk reaches the key service the server mounts, the SFU and the capture endpoint.
    expect(relative(files)).toEqual(
      expect.arrayContaining([
        'key-service/src/server/key-service.ts',
        'server/src/rooms/Room.ts',
        'server/src/http/auditCapture.ts',
        'server/src/media/RoomCapture.ts',
      ]),
    );
    expect([...packages]).toEqual(expect.arrayContaining(['mediasoup', 'socket.io', 'ts-mls']));
  });

  it('would see key derivation if it were reached: the walker finds it from the meeting client', () => {
    const { files } = importGraph([path.join(ROOT, 'web/src/lib/e2ee/MeetingEncryption.svelte.ts')]);
    expect(relative(files)).toEqual(
      expect.arrayContaining([
        'crypto-worker/src/sframe/keySchedule.ts',
        'crypto-worker/src/sframe/senderContext.ts',
        'key-service/src/client/key-client.ts',
        'key-service/src/client/group.ts',
      ]),
    );
  });
});
