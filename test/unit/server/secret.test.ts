// The token secret (server/src/auth/secret.ts): generated once with mode 0600, refused when others can read it.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SECRET_FILE, loadOrCreateTokenSecret } from '../../../server/src/auth/secret.ts';

let tmp: string;

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'conclave-secret-'));
});

afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('loadOrCreateTokenSecret', () => {
  it('generates a 32-byte secret in a new data directory, readable by its owner alone', () => {
    const dataDir = path.join(tmp, 'nested', 'data');
    const secret = loadOrCreateTokenSecret(dataDir, undefined);
    expect(secret).toBeInstanceOf(Uint8Array);
    expect(secret).toHaveLength(32);
    const file = path.join(dataDir, SECRET_FILE);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(dataDir).mode & 0o077).toBe(0);
    expect(Buffer.from(fs.readFileSync(file, 'utf8'), 'base64url').equals(Buffer.from(secret))).toBe(true);
  });

  it('returns the same secret on every later call', () => {
    const first = loadOrCreateTokenSecret(tmp, undefined);
    const second = loadOrCreateTokenSecret(tmp, undefined);
    expect(Buffer.from(second).equals(Buffer.from(first))).toBe(true);
    expect(Buffer.from(first).equals(Buffer.alloc(32))).toBe(false);
  });

  it('generates different secrets in different data directories', () => {
    const a = loadOrCreateTokenSecret(path.join(tmp, 'a'), undefined);
    const b = loadOrCreateTokenSecret(path.join(tmp, 'b'), undefined);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
  });

  it.each([
    ['group-readable', 0o640],
    ['world-readable', 0o604],
    ['group-writable', 0o620],
  ])('refuses a %s secret file and says how to fix it', (_label, mode) => {
    loadOrCreateTokenSecret(tmp, undefined);
    const file = path.join(tmp, SECRET_FILE);
    fs.chmodSync(file, mode);
    expect(() => loadOrCreateTokenSecret(tmp, undefined)).toThrow(`chmod 600 ${file}`);
  });

  it('refuses a secret file holding fewer than 32 bytes', () => {
    const file = path.join(tmp, SECRET_FILE);
    fs.writeFileSync(file, randomBytes(16).toString('base64url'), { mode: 0o600 });
    expect(() => loadOrCreateTokenSecret(tmp, undefined)).toThrow(/fewer than 32 bytes/);
  });

  it('reads an existing secret file written by an operator, ignoring a trailing newline', () => {
    const bytes = randomBytes(48);
    fs.writeFileSync(path.join(tmp, SECRET_FILE), `${bytes.toString('base64url')}\n`, { mode: 0o600 });
    expect(Buffer.from(loadOrCreateTokenSecret(tmp, undefined)).equals(bytes)).toBe(true);
  });

  it('uses a given secret verbatim and touches no file', () => {
    const bytes = randomBytes(32);
    const dataDir = path.join(tmp, 'unused');
    const secret = loadOrCreateTokenSecret(dataDir, bytes.toString('base64url'));
    expect(Buffer.from(secret).equals(bytes)).toBe(true);
    expect(fs.existsSync(dataDir)).toBe(false);
  });
});
