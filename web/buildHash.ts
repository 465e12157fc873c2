// The web bundle's fingerprint, so anyone can check that the code a server sends browsers is the code
// they build from source (docs/ARCHITECTURE.md, "For auditors"). After `vite build`, every file in the
// output directory is hashed and the result is written to `.well-known/conclave-build.json` in it
// (the server serves it at /.well-known/conclave-build.json) and the bundle digest is printed.
//
// The bundle digest is SHA-256 over the lines `<sha256 hex>  <path>\n` (two spaces: what GNU
// `sha256sum` prints) of every file in the output directory except the manifest itself, paths
// relative to it with `/`, sorted bytewise (as `LC_ALL=C sort`). In a shell, from the output directory:
//
//   find . -type f ! -path ./.well-known/conclave-build.json | sed 's|^\./||' | LC_ALL=C sort \
//     | xargs -d '\n' sha256sum | sha256sum
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Plugin, ResolvedConfig } from 'vite';

/** Where the manifest goes, relative to the output directory; it is left out of the digest. */
export const BUILD_MANIFEST_PATH = '.well-known/conclave-build.json';

export interface BuildFile {
  /** Relative to the output directory, with `/`. */
  path: string;
  sha256: string;
  bytes: number;
}

export interface BuildManifest {
  /** SHA-256 of the `sha256sum` listing of `files` (see above). */
  bundleSha256: string;
  /** How `bundleSha256` is computed, for someone reading the file without this source. */
  digest: string;
  files: BuildFile[];
  /** The commit the build came from, when built in a git checkout; dirty: uncommitted changes anywhere in it. */
  source?: { commit: string; dirty: boolean };
  /** The Node.js version that ran the build. */
  node: string;
}

const DIGEST_DESCRIPTION =
  "sha256 of the lines '<sha256>  <path>\\n' (sha256sum output) of every file but this one, sorted bytewise by path";

/** Bytewise order of the UTF-8 paths (`LC_ALL=C sort`), not JavaScript's UTF-16 order. */
function byPathBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Every file under `dir`, relative with `/`, bytewise sorted, without the manifest. */
export function listBuildFiles(dir: string): string[] {
  const files: string[] = [];
  const walk = (relative: string) => {
    for (const entry of fs.readdirSync(path.join(dir, relative), { withFileTypes: true })) {
      const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile() && child !== BUILD_MANIFEST_PATH) files.push(child);
    }
  };
  walk('');
  return files.sort(byPathBytes);
}

/** `sha256sum` output for the files, in the given order. */
export function sha256sumListing(files: readonly Pick<BuildFile, 'path' | 'sha256'>[]): string {
  return files.map((f) => `${f.sha256}  ${f.path}\n`).join('');
}

export function bundleDigest(files: readonly Pick<BuildFile, 'path' | 'sha256'>[]): string {
  const sorted = [...files].sort((a, b) => byPathBytes(a.path, b.path));
  return createHash('sha256').update(sha256sumListing(sorted)).digest('hex');
}

function gitSource(dir: string): BuildManifest['source'] {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return { commit: git('rev-parse', 'HEAD'), dirty: git('status', '--porcelain') !== '' };
  } catch {
    return undefined;
  }
}

/** Hashes the output directory. `sourceDir` (for the git commit) defaults to `dir`. */
export function computeBuildManifest(dir: string, sourceDir: string = dir): BuildManifest {
  const files = listBuildFiles(dir).map((relative) => {
    const bytes = fs.readFileSync(path.join(dir, relative));
    return { path: relative, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
  });
  const source = gitSource(sourceDir);
  return {
    bundleSha256: bundleDigest(files),
    digest: DIGEST_DESCRIPTION,
    files,
    ...(source === undefined ? {} : { source }),
    node: process.version,
  };
}

/** Writes the manifest into the output directory and returns it. */
export function writeBuildManifest(dir: string, sourceDir?: string): BuildManifest {
  const manifest = computeBuildManifest(dir, sourceDir);
  const file = path.join(dir, BUILD_MANIFEST_PATH);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** Vite plugin: after a production build has written everything, writes and prints the manifest. */
export function conclaveBuildHash(): Plugin {
  let config: ResolvedConfig | undefined;
  return {
    name: 'conclave-build-hash',
    apply: 'build',
    enforce: 'post',
    configResolved(resolved) {
      config = resolved;
    },
    closeBundle() {
      if (config === undefined || config.build.write === false) return;
      const outDir = path.resolve(config.root, config.build.outDir);
      const manifest = writeBuildManifest(outDir, config.root);
      const file = path.join(outDir, BUILD_MANIFEST_PATH);
      const shown = path.relative(process.cwd(), file);
      config.logger.info(
        `\nconclave bundle sha256 ${manifest.bundleSha256} (${manifest.files.length} files; ` +
          `${shown.startsWith('..') ? file : shown})`,
      );
    },
  };
}
