// End-to-end tests: Debian's Chromium (never a downloaded browser) with fake camera and microphone
// fed from fixture files generated in global setup, against a real server and mediasoup worker.
import { defineConfig } from '@playwright/test';
import { CHROMIUM, CHROMIUM_ARGS } from './test/support/chromium.ts';
import { E2E_BASE_URL, E2E_DATA_DIR, E2E_PORT, E2E_TOKEN_SECRET } from './test/e2e/env.ts';

export default defineConfig({
  testDir: 'test/e2e',
  outputDir: 'test/e2e/.artifacts/results',
  globalSetup: './test/e2e/global-setup.ts',
  // Each test runs several browsers on a 2-core machine; one test at a time keeps media smooth.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 90_000,
  expect: { timeout: 20_000 },
  reporter: process.env['CI'] ? [['list']] : [['list']],
  use: {
    baseURL: E2E_BASE_URL,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    permissions: ['camera', 'microphone'],
    launchOptions: {
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
    },
  },
  webServer: {
    command: 'node --import tsx server/src/main.ts',
    url: `${E2E_BASE_URL}/readyz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
    env: {
      CONCLAVE_PORT: String(E2E_PORT),
      CONCLAVE_DATA_DIR: E2E_DATA_DIR,
      CONCLAVE_TOKEN_SECRET: E2E_TOKEN_SECRET,
      CONCLAVE_WORKERS: '1',
      CONCLAVE_LOG_LEVEL: 'warn',
      CONCLAVE_OPEN_ROOMS: 'true',
      // Simulated participants with real encrypted media (test/support/media) join browser rooms
      // over SRTP PlainTransports; off in production (docs/media-load.md).
      CONCLAVE_LOAD_PLAIN_TRANSPORTS: '1',
    },
  },
});
