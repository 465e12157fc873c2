#!/usr/bin/env node
// Leaves a working mediasoup-worker binary where mediasoup looks for it
// (node_modules/mediasoup/worker/out/Release/mediasoup-worker), trying in order:
//   1. MEDIASOUP_WORKER_BIN, when set (mediasoup then uses it directly);
//   2. a worker already in place, or one cached outside the checkout for this version;
//   3. mediasoup's own prebuilt download (works where GitHub can be reached);
//   4. a build from the npm package's C++ sources against Debian's system libraries.
// Why step 4 exists: mediasoup's fallback build downloads meson and every library
// ("wraps") from the internet, which fails on machines that reach only the npm
// registry and Debian's archive. mediasoup 3.12.16 is the newest release whose
// pinned libraries match Debian bookworm's, so the system ones can stand in.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const log = (msg) => console.log(`[mediasoup-worker] ${msg}`);

const APT_LINE =
  'apt-get install -y meson ninja-build pkg-config g++ libabsl-dev libsrtp2-dev libuv1-dev libssl-dev nlohmann-json3-dev libusrsctp-dev';

function mediasoupDir() {
  try {
    return path.dirname(require.resolve('mediasoup/package.json'));
  } catch {
    return null;
  }
}

/** A worker binary run without MEDIASOUP_VERSION exits with 41: proof it loads on this host. */
function workerRuns(bin) {
  if (!fs.existsSync(bin)) return false;
  const result = spawnSync(bin, [], { env: {}, stdio: 'ignore', timeout: 10_000 });
  return result.status === 41;
}

function install(bin, target) {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.copyFileSync(bin, target);
  fs.chmodSync(target, 0o755);
}

function cachePath(version) {
  const base =
    process.env.CONCLAVE_CACHE_DIR ??
    path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'conclave');
  return path.join(base, `mediasoup-worker-${version}-${os.platform()}-${os.arch()}`);
}

async function downloadPrebuilt(version, target) {
  const base =
    process.env.MEDIASOUP_WORKER_PREBUILT_DOWNLOAD_BASE_URL ??
    'https://github.com/versatica/mediasoup/releases/download';
  const url = `${base}/${version}/mediasoup-worker-${version}-${os.platform()}-${os.arch()}.tgz`;
  log(`trying the prebuilt worker at ${url}`);
  let res;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(20_000) });
  } catch (error) {
    log(`prebuilt download unavailable (${error.cause?.code ?? error.name})`);
    return false;
  }
  if (!res.ok) {
    log(`prebuilt download failed: HTTP ${res.status}`);
    return false;
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mediasoup-prebuilt-'));
  const tgz = path.join(tmp, 'worker.tgz');
  fs.writeFileSync(tgz, Buffer.from(await res.arrayBuffer()));
  execFileSync('tar', ['xzf', tgz, '-C', tmp]);
  const bin = path.join(tmp, 'mediasoup-worker');
  if (!workerRuns(bin)) {
    log('the prebuilt worker does not run on this host');
    return false;
  }
  install(bin, target);
  return true;
}

function missingBuildPrerequisites() {
  const missing = [];
  for (const tool of ['meson', 'ninja', 'pkg-config', 'g++']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0) missing.push(tool);
  }
  if (missing.includes('pkg-config')) return missing;
  for (const lib of [
    'absl_strings',
    'absl_optional',
    'absl_flat_hash_map',
    'libsrtp2',
    'libuv',
    'openssl',
    'nlohmann_json',
    'usrsctp',
  ]) {
    if (spawnSync('pkg-config', ['--exists', lib]).status !== 0) missing.push(lib);
  }
  return missing;
}

/** Rewrites the worker's meson files to use Debian's libraries instead of downloaded subprojects. */
export function patchMesonForSystemLibraries(workerDir) {
  const mainFile = path.join(workerDir, 'meson.build');
  let main = fs.readFileSync(mainFile, 'utf8');
  // Debian bookworm ships meson 1.0.1; nothing in this file needs 1.1.
  main = main.replace("meson_version: '>= 1.1.0'", "meson_version: '>= 1.0.0'");
  const systemDeps = `
openssl_dep = dependency('openssl')
nlohmann_json_dep = dependency('nlohmann_json')
libuv_dep = dependency('libuv')
libsrtp2_dep = declare_dependency(
  dependencies: dependency('libsrtp2'),
  include_directories: include_directories('/usr/include/srtp2'),
)
usrsctp_dep = dependency('usrsctp')
absl_dep = dependency('absl_flat_hash_map')
absl_strings_dep = dependency('absl_strings')
absl_optional_dep = dependency('absl_optional')
`;
  main = replaceBetween(
    main,
    'openssl_proj = subproject(',
    'libwebrtc_include_directories =',
    `${systemDeps}\n`,
  );
  main = replaceBetween(
    main,
    'dependencies = [',
    'if host_machine.system()',
    `dependencies = [
  absl_dep,
  openssl_dep,
  nlohmann_json_dep,
  libuv_dep,
  libsrtp2_dep,
  usrsctp_dep,
  libwebrtc_dep,
]

link_whole = [
  libwebrtc,
]

`,
  );
  // The catch2 unit-test and fuzzer targets need libraries we do not build.
  main = main.slice(0, main.indexOf('test_sources = ['));
  fs.writeFileSync(mainFile, main);

  const webrtcFile = path.join(workerDir, 'deps', 'libwebrtc', 'meson.build');
  let webrtc = fs.readFileSync(webrtcFile, 'utf8');
  webrtc = replaceBetween(webrtc, 'abseil_cpp_proj = subproject(', 'local_include_directories =', '');
  webrtc = webrtc
    .replaceAll("openssl_proj.get_variable('openssl_dep')", 'openssl_dep')
    .replaceAll("abseil_cpp_proj.get_variable('absl_strings_dep')", 'absl_strings_dep')
    .replaceAll("abseil_cpp_proj.get_variable('absl_types_dep')", 'absl_optional_dep')
    .replaceAll("nlohmann_json_proj.get_variable('nlohmann_json_dep')", 'nlohmann_json_dep')
    .replaceAll("libuv_proj.get_variable('libuv_dep')", 'libuv_dep');
  fs.writeFileSync(webrtcFile, webrtc);
}

function replaceBetween(text, startMarker, endMarker, replacement) {
  const start = text.indexOf(startMarker);
  const end = text.indexOf(endMarker, start);
  if (start < 0 || end < 0)
    throw new Error(`meson.build layout changed: cannot find "${startMarker}" … "${endMarker}"`);
  return text.slice(0, start) + replacement + text.slice(end);
}

function buildFromSources(msDir, target) {
  const missing = missingBuildPrerequisites();
  if (missing.length > 0) {
    console.error(`[mediasoup-worker] cannot build the worker: missing ${missing.join(', ')}.`);
    console.error(
      `[mediasoup-worker] install the build prerequisites (as root) and run npm ci again:\n  ${APT_LINE}`,
    );
    process.exit(1);
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mediasoup-build-'));
  const workerDir = path.join(tmp, 'worker');
  fs.cpSync(path.join(msDir, 'worker'), workerDir, { recursive: true });
  patchMesonForSystemLibraries(workerDir);
  log(`building from sources in ${workerDir} (about 3 minutes on 2 cores)`);
  const buildDir = path.join(workerDir, 'out', 'Release', 'build');
  const run = (cmd, args) =>
    execFileSync(cmd, args, { cwd: workerDir, stdio: ['ignore', 'inherit', 'inherit'] });
  run('meson', [
    'setup',
    '--buildtype=release',
    '-Db_ndebug=true',
    '-Db_pie=true',
    '-Db_staticpic=true',
    buildDir,
  ]);
  run('ninja', ['-C', buildDir, 'mediasoup-worker']);
  const bin = path.join(buildDir, 'mediasoup-worker');
  if (!workerRuns(bin)) throw new Error('the locally built mediasoup-worker does not run');
  install(bin, target);
  fs.rmSync(tmp, { recursive: true, force: true });
}

async function main() {
  const msDir = mediasoupDir();
  if (!msDir) {
    log('mediasoup is not installed here; nothing to do');
    return;
  }
  const version = JSON.parse(fs.readFileSync(path.join(msDir, 'package.json'), 'utf8')).version;
  const target = path.join(msDir, 'worker', 'out', 'Release', 'mediasoup-worker');
  const cached = cachePath(version);

  if (process.env.MEDIASOUP_WORKER_BIN) {
    if (!workerRuns(process.env.MEDIASOUP_WORKER_BIN)) {
      console.error(
        `[mediasoup-worker] MEDIASOUP_WORKER_BIN=${process.env.MEDIASOUP_WORKER_BIN} is not a runnable mediasoup-worker`,
      );
      process.exit(1);
    }
    log(`using MEDIASOUP_WORKER_BIN=${process.env.MEDIASOUP_WORKER_BIN}`);
    return;
  }
  if (workerRuns(target)) {
    log(`worker ${version} already in place`);
  } else if (workerRuns(cached)) {
    log(`using the cached worker ${cached}`);
    install(cached, target);
  } else if (!(await downloadPrebuilt(version, target))) {
    buildFromSources(msDir, target);
  }
  if (!workerRuns(cached)) install(target, cached);
  log(`ready: ${target}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error) => {
    console.error(`[mediasoup-worker] ${error.message}`);
    process.exit(1);
  });
}
