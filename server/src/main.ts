// `npm start`: the Conclave server on its configured (or embedded default) settings.
// What must hold: a start-up failure the operator can fix (a bad setting, a damaged invite store, a
// port in use) ends the process with one sentence naming what to change and exit code 2, never
// with a stack trace; anything else is a bug and keeps its stack.
import { InviteStoreError } from './auth/InviteStore.ts';
import { ConclaveServer } from './ConclaveServer.ts';
import { loadClusterConfig } from './cluster/clusterConfig.ts';
import { ClusterStoreError } from './cluster/redisConnection.ts';
import { ConfigError, loadConfig } from './config.ts';
import { describeListenError } from './listenError.ts';
import { createLogger } from './logger.ts';

/** The sentence for a failure the operator can fix, or undefined for a bug. */
function explain(error: unknown): string | undefined {
  if (error instanceof ConfigError || error instanceof InviteStoreError || error instanceof ClusterStoreError)
    return error.message;
  return describeListenError(error, { portVariable: 'CONCLAVE_PORT', hostVariable: 'CONCLAVE_HOST' })
    ?.message;
}

function exitExplained(error: unknown): never {
  const sentence = explain(error);
  if (sentence === undefined) throw error;
  console.error(sentence);
  process.exit(2);
}

let config;
let cluster;
try {
  config = loadConfig();
  // Undefined unless CONCLAVE_REDIS_URL is set: alone, Conclave needs no Redis.
  cluster = loadClusterConfig(process.env, config.publicUrl);
} catch (error) {
  exitExplained(error);
}

const logger = createLogger(config.logLevel);
let server: ConclaveServer;
try {
  server = await ConclaveServer.start({ config, logger, cluster });
} catch (error) {
  exitExplained(error);
}
console.warn(`\n  Conclave is running: open ${server.url} in Firefox, Chromium or Chrome\n`);

const closeNow = () => void server.close().then(() => process.exit(0));
// Ctrl-C, or a second SIGTERM, closes at once. A first SIGTERM in a cluster drains: no new rooms
// are placed here, and the node closes once its last meeting ends (alone it closes at once).
process.once('SIGINT', closeNow);
process.once('SIGTERM', () => {
  process.once('SIGTERM', closeNow);
  void server.drainUntilEmpty().then(closeNow);
});
