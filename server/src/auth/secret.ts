// The token-signing secret: given by the operator, or generated once and kept in the data
// directory readable by the server's user alone (mode 0600).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const SECRET_FILE = 'token-secret';

export function loadOrCreateTokenSecret(dataDir: string, given: string | undefined): Uint8Array {
  if (given !== undefined) return new Uint8Array(Buffer.from(given, 'base64url'));
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, SECRET_FILE);
  try {
    // 'wx' fails when the file exists, so two servers starting at once cannot overwrite each other's secret.
    fs.writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const mode = fs.statSync(file).mode & 0o777;
  if (mode & 0o077) {
    throw new Error(`${file} is readable by other users (mode ${mode.toString(8)}); run: chmod 600 ${file}`);
  }
  const secret = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64url');
  if (secret.length < 32)
    throw new Error(`${file} holds fewer than 32 bytes; delete it to generate a new secret`);
  return new Uint8Array(secret);
}
