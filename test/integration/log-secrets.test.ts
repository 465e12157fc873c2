// Logs hold no secrets. A whole meeting runs against a real server (real mediasoup worker, the key
// service it mounts, real MLS through Node KeyClients) with every log line at `trace` captured:
// invites and sessions through the HTTP API, three people joining and producing, a chat line, an
// audit capture, people leaving (new epochs), a bad request or two. Then every line is scanned for
// every secret the test can reach, in every encoding a careless log call would produce: each
// epoch's exported SFrame base key, each security code, each member's MLS signature private key,
// every invite, session and audit token and the signatures inside them, the token secret, and a
// chat message's plaintext. None may appear.
//
// Not reachable from outside the KeyClient, so not scanned: HPKE private keys, the exporter and
// epoch secrets and the raw epoch authenticator (the security code, derived from it, is).
//
// The control: the same scan, given lines where the server's own logger wrote a secret in each
// encoding, finds each one, so a clean result is not the scan failing to look.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyClient, MemoryIdentityStore } from '@conclave/key-service/client';
import { AUDIT_CAPTURE_PATH } from '../../audit/src/captureProtocol.ts';
import { AuditTokenAuthority } from '../../server/src/auth/auditTokens.ts';
import { ConclaveServer } from '../../server/src/ConclaveServer.ts';
import { loadConfig } from '../../server/src/config.ts';
import { createLogger, type Logger } from '../../server/src/logger.ts';
import { TestClient, opusParameters, waitUntil } from './support/testServer.ts';

interface Secret {
  what: string;
  /** A secret's bytes; text secrets (tokens) are scanned as they are and as their UTF-8 bytes. */
  bytes?: Uint8Array;
  text?: string;
}

/** Every way a secret might be written into a log line. */
function encodings(secret: Secret): Map<string, string> {
  const forms = new Map<string, string>();
  if (secret.text !== undefined) forms.set('text', secret.text);
  const bytes = secret.bytes ?? (secret.text === undefined ? undefined : Buffer.from(secret.text, 'utf8'));
  if (bytes === undefined) return forms;
  const buffer = Buffer.from(bytes);
  forms.set('hex', buffer.toString('hex'));
  forms.set('HEX', buffer.toString('hex').toUpperCase());
  forms.set('base64', buffer.toString('base64').replace(/=+$/, ''));
  forms.set('base64url', buffer.toString('base64url'));
  // JSON of a Uint8Array: pino writes typed arrays as {"0":12,"1":34,…}, arrays as [12,34,…].
  forms.set('json-array', JSON.stringify([...buffer]).slice(1, -1));
  forms.set('json-object', JSON.stringify({ ...[...buffer] }).slice(1, -1));
  if (buffer.length >= 24) {
    // Part of a key is a leak too: its first and last 12 bytes in hex.
    forms.set('hex-head', buffer.subarray(0, 12).toString('hex'));
    forms.set('hex-tail', buffer.subarray(-12).toString('hex'));
  }
  return forms;
}

/** The (secret, encoding) pairs found in the lines. */
function scan(lines: string[], secrets: Secret[]): string[] {
  // As written, and with JSON string escapes undone (a secret inside a logged string is escaped).
  const raw = lines.join('\n');
  const text = `${raw}\n${raw.replace(/\\(["\\/])/g, '$1')}`;
  const lower = text.toLowerCase();
  const found: string[] = [];
  for (const secret of secrets) {
    for (const [form, value] of encodings(secret)) {
      const haystack = form === 'hex' || form === 'HEX' || form.startsWith('hex-') ? lower : text;
      if (haystack.includes(form === 'HEX' ? value.toLowerCase() : value))
        found.push(`${secret.what} as ${form}`);
    }
  }
  return found;
}

/** Pieces of a JWT worth scanning on their own: the whole token and its signature. */
function tokenSecrets(what: string, token: string): Secret[] {
  return [
    { what, text: token },
    { what: `${what}'s signature`, bytes: Buffer.from(token.split('.')[2]!, 'base64url') },
  ];
}

const TOKEN_SECRET = randomBytes(32);
/** coturn's REST-API shared secret: the server derives every session's TURN credential from it. */
const TURN_SECRET = randomBytes(24).toString('base64url');

let lines: string[];
let logger: Logger;
let server: ConclaveServer;
let dataDir: string;
let secrets: Secret[];
const clients: { keys: KeyClient; signaling: TestClient }[] = [];

beforeAll(async () => {
  lines = [];
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'conclave-logs-'));
  const config = loadConfig({
    CONCLAVE_PORT: '0',
    CONCLAVE_DATA_DIR: dataDir,
    CONCLAVE_WORKERS: '1',
    CONCLAVE_RTC_MIN_PORT: '42000',
    CONCLAVE_RTC_MAX_PORT: '42999',
    CONCLAVE_TOKEN_SECRET: TOKEN_SECRET.toString('base64url'),
    CONCLAVE_TURN_URLS: 'turn:127.0.0.1:3478?transport=udp',
    CONCLAVE_TURN_SECRET: TURN_SECRET,
    CONCLAVE_OPEN_ROOMS: 'true',
    CONCLAVE_LOG_LEVEL: 'trace',
  });
  logger = createLogger('trace', { write: (line: string) => lines.push(line) });
  server = await ConclaveServer.start({ config, logger, webRoot: dataDir });
  secrets = await holdMeeting();
}, 60_000);

afterAll(async () => {
  for (const c of clients.splice(0)) {
    c.keys.close();
    c.signaling.close();
  }
  await server.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function postJson(pathname: string, body: unknown): Promise<Response> {
  return fetch(`${server.url}${pathname}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** Runs the meeting; returns every secret the participants and the operator held. */
async function holdMeeting(): Promise<Secret[]> {
  const held: Secret[] = [
    { what: 'the token secret', bytes: TOKEN_SECRET },
    { what: 'the TURN secret', text: TURN_SECRET },
  ];
  const room = (await (await postJson('/api/rooms', {})).json()) as {
    room: string;
    hostInvite: string;
    guestInvite: string;
  };
  held.push(...tokenSecrets('the host invite', room.hostInvite));
  held.push(...tokenSecrets('the invite', room.guestInvite));

  const people: { name: string; keys: KeyClient; signaling: TestClient; identity: MemoryIdentityStore }[] =
    [];
  for (const name of ['Alice', 'Bob', 'Carol']) {
    // Alice made the meeting (her host invite starts it); the others come with the guest link.
    const invite = name === 'Alice' ? room.hostInvite : room.guestInvite;
    const session = (await (await postJson('/api/sessions', { invite, name })).json()) as {
      session: string;
      userId: string;
      iceServers: RTCIceServer[];
    };
    held.push(...tokenSecrets(`${name}'s session`, session.session));
    const turn = session.iceServers.find((s) => s.credential !== undefined);
    expect(turn?.username).toMatch(new RegExp(`^\\d+:${session.userId}$`));
    held.push({ what: `${name}'s TURN credential`, text: String(turn?.credential) });
    // Renewing a session (the client does before its token expires) goes through the log too.
    const renewed = (await (
      await postJson('/api/sessions', { invite, name, previous: session.session })
    ).json()) as { session: string };
    held.push(...tokenSecrets(`${name}'s renewed session`, renewed.session));

    const signaling = await TestClient.connect(server.url, { token: session.session });
    const { sendTransportId } = await signaling.join();
    await signaling.ok('produce', {
      transportId: sendTransportId,
      kind: 'audio',
      rtpParameters: opusParameters(),
      source: 'mic',
    });
    const identity = new MemoryIdentityStore();
    const keys = new KeyClient({
      url: `${server.url}/keys`,
      token: () => session.session,
      userId: session.userId,
      identityStore: identity,
      requestTimeoutMs: 5000,
    });
    keys.on('epoch', (epoch) => {
      held.push({ what: `${name}'s base key of epoch ${epoch.epoch}`, bytes: epoch.baseKey });
      held.push({ what: `${name}'s security code of epoch ${epoch.epoch}`, text: epoch.securityCode });
    });
    clients.push({ keys, signaling });
    await keys.start();
    people.push({ name, keys, signaling, identity });
  }
  await waitUntil(() => people.every((p) => p.keys.epoch === people[2]!.keys.epoch), 10_000, 'one epoch');

  const chat = `the launch code is ${randomBytes(12).toString('hex')}`;
  held.push({ what: 'a chat message', text: chat });
  await people[0]!.keys.sendChat(chat);

  // The operator audits the meeting; a bad request and a wrong token are refused (and logged).
  const auditToken = await new AuditTokenAuthority(TOKEN_SECRET).mint(room.room);
  held.push(...tokenSecrets('the audit token', auditToken));
  const capture = await postJson(AUDIT_CAPTURE_PATH, {
    token: auditToken,
    room: room.room,
    port: 9,
    seconds: 1,
  });
  expect(capture.status).toBe(200);
  // Its body: the streams as they were consumed, then the end (newline-delimited JSON).
  expect(await capture.text()).toContain('"type":"end"');
  const refused = await postJson('/api/sessions', { invite: `${room.guestInvite}x`, name: 'Mallory' });
  expect(refused.status).toBe(401);
  await expect(TestClient.connect(server.url, { token: `${auditToken}` })).rejects.toThrow();

  // Bob leaves: a new epoch for Alice and Carol.
  const bob = people[1]!;
  const before = people[0]!.keys.epoch!;
  bob.keys.close();
  bob.signaling.close();
  await waitUntil(() => people[0]!.keys.epoch! > before, 10_000, 'the epoch after Bob left');

  for (const person of people) {
    const stored = await person.identity.load();
    held.push({ what: `${person.name}'s MLS signature private key`, bytes: stored!.signaturePrivateKey });
  }
  return held;
}

describe('server and key service logs', () => {
  it('hold none of the meeting’s keys, tokens, codes or messages, at trace level', () => {
    const epochs = new Set(
      secrets.filter((s) => s.what.includes('base key')).map((s) => s.what.split(' ').pop()),
    );
    expect(epochs.size, 'base keys of several epochs').toBeGreaterThanOrEqual(3);
    // The logs did record the meeting: peers, the key service's group, the capture.
    const text = lines.join('\n');
    expect(text).toContain('peer connected');
    expect(text).toContain('"component":"key-service"');
    expect(text).toContain('audit capture started');
    expect(lines.length).toBeGreaterThanOrEqual(10);
    expect(scan(lines, secrets)).toEqual([]);
  });

  it('show a secret the server’s logger was given, in any encoding (the control)', () => {
    const baseKey = secrets.find((s) => s.what.includes('base key'))!;
    const session = secrets.find((s) => s.what === "Alice's session")!;
    const signatureKey = secrets.find((s) => s.what.includes('signature private key'))!;
    for (const secret of [baseKey, session, signatureKey]) {
      for (const [form, value] of encodings(secret)) {
        const from = lines.length;
        logger.debug({ detail: `value=${value};` }, 'a careless log call');
        expect(scan(lines.slice(from), [secret]), `${secret.what} as ${form}`).toContain(
          `${secret.what} as ${form}`,
        );
      }
    }
    // The Uint8Array itself, as a careless `logger.debug({ frame: baseKey })` would write it.
    const from = lines.length;
    logger.debug({ frame: baseKey.bytes }, 'a careless log call');
    expect(scan(lines.slice(from), [baseKey])).toContain(`${baseKey.what} as json-object`);
  });
});
