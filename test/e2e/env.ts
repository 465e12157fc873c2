import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Overridable so two Playwright runs on one machine do not collide. */
export const E2E_PORT = Number(process.env['CONCLAVE_E2E_PORT'] ?? 3107);
export const E2E_BASE_URL = `http://localhost:${E2E_PORT}`;
export const E2E_DATA_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '.artifacts', 'data');

/** The e2e server's token secret: fixed and test-only, so tests can sign invites as the server does. */
export const E2E_TOKEN_SECRET = Buffer.alloc(32, 'conclave-e2e-only').toString('base64url');
