// scripts/provision-mediasoup-worker.mjs: rewriting mediasoup's meson files to build against Debian's libraries.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

type Patch = (workerDir: string) => void;

const SUBPROJECTS = ['openssl', 'nlohmann_json', 'libuv', 'libsrtp2', 'usrsctp', 'abseil-cpp', 'catch2'];
const SYSTEM_DEPENDENCIES = [
  'openssl',
  'nlohmann_json',
  'libuv',
  'libsrtp2',
  'usrsctp',
  'absl_flat_hash_map',
  'absl_strings',
  'absl_optional',
];

const mediasoupWorker = path.join(
  path.dirname(createRequire(import.meta.url).resolve('mediasoup/package.json')),
  'worker',
);

let patchMesonForSystemLibraries: Patch;
let workerDir: string;

function read(relative: string): string {
  return fs.readFileSync(path.join(workerDir, relative), 'utf8');
}

beforeAll(async () => {
  // Imported by URL: the script is plain JavaScript without type declarations.
  const script = pathToFileURL(
    path.resolve(import.meta.dirname, '../../../scripts/provision-mediasoup-worker.mjs'),
  ).href;
  ({ patchMesonForSystemLibraries } = (await import(script)) as { patchMesonForSystemLibraries: Patch });
});

beforeEach(() => {
  workerDir = fs.mkdtempSync(path.join(os.tmpdir(), 'conclave-meson-'));
  fs.mkdirSync(path.join(workerDir, 'deps', 'libwebrtc'), { recursive: true });
  for (const file of ['meson.build', 'deps/libwebrtc/meson.build']) {
    fs.copyFileSync(path.join(mediasoupWorker, file), path.join(workerDir, file));
  }
});

afterEach(() => {
  fs.rmSync(workerDir, { recursive: true, force: true });
});

describe('patchMesonForSystemLibraries', () => {
  it('starts from meson files that download subprojects (so the checks below can fail)', () => {
    const main = read('meson.build');
    for (const name of SUBPROJECTS) expect(main).toContain(`subproject(\n  '${name}'`);
    expect(main).toContain('test_sources = [');
  });

  it('replaces every downloaded subproject with a system dependency', () => {
    patchMesonForSystemLibraries(workerDir);
    const main = read('meson.build');
    const webrtc = read('deps/libwebrtc/meson.build');
    for (const name of SUBPROJECTS) {
      const subproject = new RegExp(`subproject\\(\\s*'${name}'`);
      expect(main).not.toMatch(subproject);
      expect(webrtc).not.toMatch(subproject);
    }
    // Only the Windows-only getopt subproject is left, and no variable is read from a removed one.
    expect(main.match(/subproject\(/g)).toEqual(['subproject(']);
    expect(main).toMatch(/wingetopt_proj = subproject\(/);
    expect(main.match(/(\w+)_proj\.get_variable/g)?.every((m) => m.startsWith('wingetopt_proj'))).toBe(true);
    expect(webrtc).not.toMatch(/subproject\(|get_variable/);
    for (const dep of SYSTEM_DEPENDENCIES) expect(main).toContain(`dependency('${dep}')`);
  });

  it('declares the system dependencies before libwebrtc, which uses them', () => {
    patchMesonForSystemLibraries(workerDir);
    const main = read('meson.build');
    const webrtc = read('deps/libwebrtc/meson.build');
    const subdir = main.indexOf("subdir('deps/libwebrtc')");
    expect(subdir).toBeGreaterThan(0);
    for (const variable of [
      'openssl_dep',
      'absl_strings_dep',
      'absl_optional_dep',
      'nlohmann_json_dep',
      'libuv_dep',
    ]) {
      expect(webrtc).toMatch(new RegExp(`^\\s+${variable},$`, 'm'));
      const declared = main.indexOf(`${variable} = `);
      expect(declared).toBeGreaterThan(0);
      expect(declared).toBeLessThan(subdir);
    }
  });

  it('puts /usr/include/srtp2 on the include path', () => {
    patchMesonForSystemLibraries(workerDir);
    expect(read('meson.build')).toMatch(
      /libsrtp2_dep = declare_dependency\(\s*dependencies: dependency\('libsrtp2'\),\s*include_directories: include_directories\('\/usr\/include\/srtp2'\),/,
    );
  });

  it('links the worker against the system libraries and its own libwebrtc only', () => {
    patchMesonForSystemLibraries(workerDir);
    const main = read('meson.build');
    const dependencies = /\ndependencies = \[([^\]]*)\]/.exec(main)?.[1] ?? '';
    expect(
      dependencies
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .sort(),
    ).toEqual(
      [
        'absl_dep',
        'libsrtp2_dep',
        'libuv_dep',
        'libwebrtc_dep',
        'nlohmann_json_dep',
        'openssl_dep',
        'usrsctp_dep',
      ].sort(),
    );
    expect(/\nlink_whole = \[([^\]]*)\]/.exec(main)?.[1]?.trim()).toBe('libwebrtc,');
    expect(main).toMatch(/executable\(\s*'mediasoup-worker',/);
  });

  it('drops the test and fuzzer targets', () => {
    patchMesonForSystemLibraries(workerDir);
    const main = read('meson.build');
    expect(main).not.toMatch(/test_sources|catch2|mediasoup-worker-test|mediasoup-worker-fuzzer/);
  });

  it("accepts Debian bookworm's meson 1.0", () => {
    patchMesonForSystemLibraries(workerDir);
    const requirement = /meson_version: '>= (\d+)\.(\d+)\.(\d+)'/.exec(read('meson.build'));
    expect(requirement).not.toBeNull();
    const [major, minor] = [Number(requirement?.[1]), Number(requirement?.[2])];
    expect(major < 1 || (major === 1 && minor <= 0)).toBe(true);
  });

  it('fails loudly, naming the marker, when the meson layout is not the expected one', () => {
    fs.writeFileSync(
      path.join(workerDir, 'meson.build'),
      "project('mediasoup-worker', meson_version: '>= 1.1.0')\n",
    );
    expect(() => patchMesonForSystemLibraries(workerDir)).toThrow(
      /meson\.build layout changed: cannot find "openssl_proj = subproject\("/,
    );
  });
});
