// A Conclave server inside the test's own process, for specs and benchmarks that must reach into it
// (the eavesdropper test taps a room's mediasoup router, see test/support/sfuTap.ts; the meeting
// benchmark listens to the key service). The config's
// webServer stays the server for every other spec; this one is separate: its own free HTTP port,
// open rooms, a temporary data directory, one mediasoup worker, media ports 43000-43999 (apart from
// the webServer's default range and the integration tests' 42000-42999), and the built app from
// web/dist (`npm run test:e2e` builds it first).
//
// API:
//   startInProcessServer(options?: { env?: Record<string, string>; webRoot?: string }): Promise<InProcessServer>
//   InProcessServer: {
//     server: ConclaveServer;      // server.rooms, server.tokens, … (server/src/ConclaveServer.ts)
//     baseUrl: string;             // http://localhost:<port>, a secure context for camera and microphone
//     newMeeting(): Promise<{ roomId: string; inviteLink: string; guestLink: string }>; // host and guest links
//     stop(): Promise<void>;       // stops the server as a shutdown would, keeping its data directory
//     start(): Promise<void>;      // starts it again on the same port, data directory and token
//                                  // secret: a restart, as clients see one (`server` is the new one)
//     close(): Promise<void>;      // stops the server and removes the data directory; idempotent
//   }
//
// Example (a spec in test/e2e; absolute URLs, since the config's baseURL is the webServer's):
//
//   import { expect, test } from '@playwright/test';
//   import { SfuTap } from '../support/sfuTap.ts';
//   import { startInProcessServer, type InProcessServer } from '../support/inProcessServer.ts';
//   import { joinByLink, newParticipantPage } from './helpers.ts';
//
//   let conclave: InProcessServer;
//   test.beforeAll(async () => { conclave = await startInProcessServer(); });
//   test.afterAll(async () => { await conclave.close(); });
//
//   test('the SFU forwards only SFrame ciphertext', async ({ browser }) => {
//     const { roomId, inviteLink } = await conclave.newMeeting();
//     const tap = await SfuTap.attachToServer(conclave.server, roomId); // before anyone joins
//     const alice = await newParticipantPage(browser);
//     await joinByLink(alice, inviteLink, 'Alice');
//     ...
//     expect(tap.violations()).toEqual([]);
//     tap.close();
//   });
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConclaveServer } from '../../server/src/ConclaveServer.ts';
import { loadConfig } from '../../server/src/config.ts';
import { inviteUrl, newRoomId } from '../../server/src/http/api.ts';
import { createLogger } from '../../server/src/logger.ts';

export const WEB_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web/dist');

export interface InProcessServer {
  /** The running server (a new instance after each `start()`). */
  readonly server: ConclaveServer;
  baseUrl: string;
  /** A new room id and an invite link to it, signed by this server. */
  newMeeting(): Promise<{ roomId: string; inviteLink: string; guestLink: string }>;
  /** Stops the server, keeping its data directory (and so its token secret). */
  stop(): Promise<void>;
  /** Starts a stopped server again on the same port with the same data directory. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface InProcessServerOptions {
  /** CONCLAVE_* settings, as the environment would give them, over the defaults above. */
  env?: Record<string, string>;
  webRoot?: string;
}

export async function startInProcessServer({
  env = {},
  webRoot = WEB_DIST,
}: InProcessServerOptions = {}): Promise<InProcessServer> {
  if (!fs.existsSync(path.join(webRoot, 'index.html'))) {
    throw new Error(`no built web app in ${webRoot}: run npm run build (npm run test:e2e does)`);
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'conclave-e2e-'));
  const config = loadConfig({
    CONCLAVE_HOST: '127.0.0.1',
    CONCLAVE_PORT: '0',
    CONCLAVE_DATA_DIR: dataDir,
    CONCLAVE_OPEN_ROOMS: 'true',
    CONCLAVE_WORKERS: '1',
    CONCLAVE_RTC_MIN_PORT: '43000',
    CONCLAVE_RTC_MAX_PORT: '43999',
    CONCLAVE_LOG_LEVEL: 'warn',
    ...env,
  });
  // Logs go to stderr: a benchmark's stdout carries its figures.
  const logger = createLogger(config.logLevel, { write: (line: string) => process.stderr.write(line) });
  let server: ConclaveServer;
  try {
    server = await ConclaveServer.start({ config, logger, webRoot });
  } catch (error) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  // A restart listens where clients already are: the port the first start was given, and serves
  // the same origin (sockets from any other Origin are refused).
  const restartConfig = { ...config, port: Number(new URL(server.url).port), publicUrl: server.url };
  let running: ConclaveServer | undefined = server;
  let closing: Promise<void> | undefined;
  return {
    get server() {
      return server;
    },
    baseUrl: server.url,
    async newMeeting() {
      const roomId = newRoomId();
      // A host invite, shared: its first holder starts the meeting and hosts it; everyone after knocks
      // and is admitted by a host (test/e2e/helpers.ts does that as a person would).
      const invite = await server.tokens.mintInvite({ room: roomId, host: true });
      const guest = await server.tokens.mintInvite({ room: roomId });
      return {
        roomId,
        inviteLink: inviteUrl(server.url, roomId, invite),
        guestLink: inviteUrl(server.url, roomId, guest),
      };
    },
    async stop() {
      await running?.close();
      running = undefined;
    },
    async start() {
      if (running !== undefined || closing !== undefined) throw new Error('the server is running or closed');
      server = await ConclaveServer.start({ config: restartConfig, logger, webRoot });
      running = server;
    },
    close() {
      closing ??= Promise.resolve(running?.close()).finally(() =>
        fs.rmSync(dataDir, { recursive: true, force: true }),
      );
      return closing;
    },
  };
}
