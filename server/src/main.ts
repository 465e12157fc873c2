// `npm start`: the Conclave server on its configured (or embedded default) settings.
import { InviteStoreError } from './auth/InviteStore.ts';
import { ConclaveServer } from './ConclaveServer.ts';
import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './logger.ts';

let config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(2);
}

const logger = createLogger(config.logLevel);
let server;
try {
  server = await ConclaveServer.start({ config, logger });
} catch (error) {
  if (!(error instanceof InviteStoreError)) throw error;
  console.error(error.message);
  process.exit(2);
}
console.warn(`\n  Conclave is running: open ${server.url} in Firefox, Chromium or Chrome\n`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void server.close().then(() => process.exit(0));
  });
}
