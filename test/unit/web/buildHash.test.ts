// The web bundle's fingerprint (web/buildHash.ts): every file's SHA-256 and one digest over the sorted
// `sha256sum` listing, exactly what an auditor's shell pipeline computes from the same directory.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  BUILD_MANIFEST_PATH,
  bundleDigest,
  computeBuildManifest,
  conclaveBuildHash,
  listBuildFiles,
  sha256sumListing,
  writeBuildManifest,
} from '../../../web/buildHash.ts';

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** Names whose bytewise (UTF-8) order differs from JavaScript's default (UTF-16) and from case-folded order. */
const FILES: Record<string, string> = {
  'index.html': '<!doctype html>',
  'favicon.svg': '<svg/>',
  'assets/index-AbC123.js': 'console.log(1);',
  'assets/index-AbC123.js.map': '{"version":3}',
  'assets/Z-upper.css': 'a{}',
  'assets/a-lower.css': 'b{}',
  'assets/\u{1F600}.txt': 'astral',
  'assets/\uFF21.txt': 'fullwidth A',
  '.well-known/security.txt': 'Contact: mailto:x@example.org',
  'empty.txt': '',
};

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'conclave-build-hash-'));
  for (const [name, content] of Object.entries(FILES)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('build hash', () => {
  it('lists every file bytewise by UTF-8 path, dot directories included, the manifest left out', () => {
    fs.mkdirSync(path.join(dir, '.well-known'), { recursive: true });
    fs.writeFileSync(path.join(dir, BUILD_MANIFEST_PATH), '{"stale":true}');
    expect(listBuildFiles(dir)).toEqual([
      '.well-known/security.txt',
      'assets/Z-upper.css',
      'assets/a-lower.css',
      'assets/index-AbC123.js',
      'assets/index-AbC123.js.map',
      'assets/\uFF21.txt', // EF BC A1 sorts before F0 9F 98 80, although UTF-16 puts D83D first
      'assets/\u{1F600}.txt',
      'empty.txt',
      'favicon.svg',
      'index.html',
    ]);
  });

  it('digests the sha256sum listing: "<hex>  <path>\\n" per file, sorted', () => {
    const manifest = computeBuildManifest(dir);
    const expectedListing = listBuildFiles(dir)
      .map((name) => `${sha256(FILES[name]!)}  ${name}\n`)
      .join('');
    expect(sha256sumListing(manifest.files)).toBe(expectedListing);
    expect(manifest.bundleSha256).toBe(sha256(expectedListing));
    expect(manifest.files.find((f) => f.path === 'empty.txt')).toEqual({
      path: 'empty.txt',
      sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      bytes: 0,
    });
    // The order the entries come in does not matter; the paths' bytes do.
    expect(bundleDigest([...manifest.files].reverse())).toBe(manifest.bundleSha256);
  });

  it('matches the shell pipeline AUDIT.md gives auditors', () => {
    let shell: string;
    try {
      shell = execFileSync(
        'bash',
        [
          '-c',
          "find . -type f ! -path ./.well-known/conclave-build.json | sed 's|^\\./||' | LC_ALL=C sort " +
            "| xargs -d '\\n' sha256sum | sha256sum",
        ],
        { cwd: dir, encoding: 'utf8' },
      );
    } catch {
      return; // no GNU coreutils here: the listing test above pins the same format
    }
    writeBuildManifest(dir); // present, and left out by both
    expect(shell.split(' ')[0]).toBe(computeBuildManifest(dir).bundleSha256);
  });

  it('changes with any byte of any file, and not with the manifest or a rewrite of it', () => {
    const first = writeBuildManifest(dir).bundleSha256;
    expect(writeBuildManifest(dir).bundleSha256).toBe(first);
    expect(JSON.parse(fs.readFileSync(path.join(dir, BUILD_MANIFEST_PATH), 'utf8'))).toMatchObject({
      bundleSha256: first,
      files: expect.arrayContaining([expect.objectContaining({ path: 'index.html' })]),
    });
    fs.appendFileSync(path.join(dir, 'assets/index-AbC123.js.map'), ' ');
    expect(computeBuildManifest(dir).bundleSha256).not.toBe(first);
  });

  it('the Vite plugin writes the manifest into the output directory and prints the digest after a build', () => {
    const plugin = conclaveBuildHash();
    const info = vi.fn();
    const config = { root: dir, build: { outDir: '.', write: true }, logger: { info } };
    (plugin.configResolved as (c: unknown) => void)(config);
    (plugin.closeBundle as () => void)();
    const manifest = computeBuildManifest(dir);
    expect(fs.existsSync(path.join(dir, BUILD_MANIFEST_PATH))).toBe(true);
    expect(info).toHaveBeenCalledWith(
      expect.stringContaining(`conclave bundle sha256 ${manifest.bundleSha256} (10 files;`),
    );
    expect(plugin.apply).toBe('build');
  });
});
