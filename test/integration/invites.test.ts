// Invites against the real server (issue 14, "Invites and names"), with the attacker speaking raw
// HTTP and raw socket.io, not the project's client:
// - a single-use invite minted by the real `npm run invite -- --uses 1` admits one person; renewals
//   do not count; a revoked invite mints nothing; a rotated-out guest link admits nobody new; and
//   all of it holds after the server restarts on the same data directory;
// - a damaged invite store stops the server at start with a message naming the file;
// - no renewal path (POST /api/sessions with `previous`, signaling's `renew`, the key service's
//   `renew`) lets a guest go on under a named user's id.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { io, type Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConclaveServer } from '../../server/src/ConclaveServer.ts';
import { INVITE_STORE_FILE, InviteStoreError } from '../../server/src/auth/InviteStore.ts';
import { loadConfig } from '../../server/src/config.ts';
import { createLogger } from '../../server/src/logger.ts';
import { TestClient, startTestServer, type TestServer } from './support/testServer.ts';

const TOKEN_SECRET = Buffer.alloc(32, 'invites-integration').toString('base64url');
const REPO = path.resolve(import.meta.dirname, '../..');

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

async function post(url: string, body: unknown): Promise<Answer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The token in an invite link's fragment. */
function tokenOf(link: string): string {
  return new URLSearchParams(new URL(link).hash.slice(1)).get('t') ?? '';
}

/** `npm run invite` itself, with the server's environment. */
async function runInviteCli(dataDir: string, args: string[]): Promise<{ link: string; id: string }> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', 'server/src/cli/invite.ts', ...args],
    { cwd: REPO, env: { ...process.env, CONCLAVE_DATA_DIR: dataDir, CONCLAVE_TOKEN_SECRET: TOKEN_SECRET } },
  );
  const link = /^https?:\/\/\S+$/m.exec(stdout)?.[0];
  const id = /invite id ([A-Za-z0-9_-]+)/.exec(stdout)?.[1];
  if (link === undefined || id === undefined) throw new Error(`unexpected output: ${stdout}`);
  return { link, id };
}

describe('use counts, revocations and guest-link rotation survive a restart', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'conclave-invites-it-'));
  let ts: TestServer | undefined;
  afterAll(async () => {
    await ts?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  const start = async () =>
    (ts = await startTestServer({ CONCLAVE_DATA_DIR: dataDir, CONCLAVE_TOKEN_SECRET: TOKEN_SECRET }));
  const session = (body: Record<string, unknown>) => post(`${ts!.url}/api/sessions`, body);

  it('holds each rule before and after the server restarts on the same data directory', async () => {
    const single = await runInviteCli(dataDir, ['--room', 'board-meeting', '--name', 'Dana', '--uses', '1']);
    const doomed = await runInviteCli(dataDir, ['--room', 'board-meeting', '--name', 'Eve']);
    await start();

    // Single use: Dana gets in and renews; someone else with her link does not.
    const dana = await session({ invite: tokenOf(single.link), name: 'Dana' });
    expect(dana.status).toBe(200);
    const danaRenewed = await session({
      invite: tokenOf(single.link),
      name: 'Dana',
      previous: dana.body['session'],
    });
    expect(danaRenewed.status).toBe(200);
    expect(danaRenewed.body['userId']).toBe(dana.body['userId']);
    const second = await session({ invite: tokenOf(single.link), name: 'Dana' });
    expect(second).toMatchObject({ status: 403, body: { code: 'invite-exhausted' } });
    expect(second.body).not.toHaveProperty('session');

    // Revoked: Eve's session cannot be renewed, and nobody gets a new one.
    const eve = await session({ invite: tokenOf(doomed.link), name: 'Eve' });
    expect(eve.status).toBe(200);
    ts!.server.invites.revoke(doomed.id);
    for (const body of [
      { invite: tokenOf(doomed.link), name: 'Eve' },
      { invite: tokenOf(doomed.link), name: 'Eve', previous: eve.body['session'] },
    ]) {
      expect(await session(body)).toMatchObject({ status: 403, body: { code: 'invite-revoked' } });
    }

    // Reset invite link: the old guest link admits nobody new; a guest already in keeps renewing.
    const meeting = (await post(`${ts!.url}/api/rooms`, {})).body as Record<string, string>;
    const guest = await session({ invite: meeting['guestInvite'], name: 'Guest' });
    expect(guest.status).toBe(200);
    const rotated = await ts!.server.invites.rotateGuestInvite(meeting['room']!);
    expect(rotated.inviteUrl).toBe(`${ts!.url}/r/${meeting['room']}#t=${rotated.invite}`);
    expect(await session({ invite: meeting['guestInvite'], name: 'Late' })).toMatchObject({
      status: 403,
      body: { code: 'invite-revoked' },
    });
    expect((await session({ invite: rotated.invite, name: 'New guest' })).status).toBe(200);

    await ts!.close();
    ts = undefined;
    await start();

    expect(await session({ invite: tokenOf(single.link), name: 'Dana' })).toMatchObject({
      status: 403,
      body: { code: 'invite-exhausted' },
    });
    const danaAfter = await session({
      invite: tokenOf(single.link),
      name: 'Dana',
      previous: danaRenewed.body['session'],
    });
    expect(danaAfter.status).toBe(200);
    expect(danaAfter.body['userId']).toBe(dana.body['userId']);
    expect(await session({ invite: tokenOf(doomed.link), name: 'Eve' })).toMatchObject({
      status: 403,
      body: { code: 'invite-revoked' },
    });
    expect(await session({ invite: meeting['guestInvite'], name: 'Late' })).toMatchObject({
      status: 403,
      body: { code: 'invite-revoked' },
    });
    expect(
      (await session({ invite: meeting['guestInvite'], name: 'Guest', previous: guest.body['session'] }))
        .status,
    ).toBe(200);
    expect((await session({ invite: rotated.invite, name: 'Another guest' })).status).toBe(200);
    // What was kept is a small JSON file, for the server's user alone.
    const file = path.join(dataDir, INVITE_STORE_FILE);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toMatchObject({ version: 1 });
  });
});

it('refuses to start on a damaged invite store, naming the file', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'conclave-invites-bad-'));
  try {
    const file = path.join(dataDir, INVITE_STORE_FILE);
    fs.writeFileSync(file, '{"version":1,"invites":{"x":');
    const config = loadConfig({ CONCLAVE_PORT: '0', CONCLAVE_DATA_DIR: dataDir, CONCLAVE_WORKERS: '1' });
    const started = ConclaveServer.start({ config, logger: createLogger('silent'), webRoot: dataDir });
    await expect(started).rejects.toThrow(InviteStoreError);
    await expect(started).rejects.toThrow(`the invite store ${file} is damaged`);
    expect(fs.readFileSync(file, 'utf8')).toBe('{"version":1,"invites":{"x":');
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

describe("a guest cannot go on under a named user's id", () => {
  let ts: TestServer;
  const sockets: { close(): unknown }[] = [];
  beforeAll(async () => {
    ts = await startTestServer({ CONCLAVE_TOKEN_SECRET: TOKEN_SECRET });
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
  });
  afterAll(() => ts.close());

  function rawKeys(token: string): Promise<Socket> {
    const socket = io(`${ts.url}/keys`, {
      auth: { token },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    sockets.push(socket);
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(socket));
      socket.once('connect_error', reject);
    });
  }

  /** Alice holds a named invite; Mallory the room's guest link, and (somehow) one of Alice's session tokens. */
  async function scene(room: string) {
    const aliceInvite = await ts.server.tokens.mintInvite({ room, sub: 'alice-0001', name: 'Alice' });
    const guestLink = await ts.server.tokens.mintInvite({ room });
    const alice = await post(`${ts.url}/api/sessions`, { invite: aliceInvite, name: 'Alice' });
    const mallory = await post(`${ts.url}/api/sessions`, { invite: guestLink, name: 'Mallory' });
    expect([alice.status, mallory.status]).toEqual([200, 200]);
    return { guestLink, alice: alice.body, mallory: mallory.body };
  }

  it("a revoked invite's sessions open no socket, and no socket renews with them", async () => {
    const room = 'revoked-sockets';
    const { token: invite, jti } = await ts.server.tokens.mintInviteWithId({ room });
    const first = await post(`${ts.url}/api/sessions`, { invite, name: 'Eve' });
    const spare = await post(`${ts.url}/api/sessions`, {
      invite,
      name: 'Eve',
      previous: first.body['session'],
    });
    const eve = await TestClient.connect(ts.url, { token: first.body['session'] });
    sockets.push(eve);
    ts.server.invites.revoke(jti);
    expect(await eve.request('renew', { token: spare.body['session'] })).toMatchObject({
      ok: false,
      error: { code: 'invite-revoked' },
    });
    const refused = await TestClient.connect(ts.url, { token: spare.body['session'] }).then(
      (c) => (sockets.push(c), undefined),
      (e: { data?: { code?: string } }) => e.data?.code,
    );
    expect(refused).toBe('invite-revoked');
    await expect(rawKeys(spare.body['session'] as string)).rejects.toThrow();
  });

  it("POST /api/sessions: a guest link with Alice's session as `previous` is refused", async () => {
    const { guestLink, alice } = await scene('takeover-http');
    const takeover = await post(`${ts.url}/api/sessions`, {
      invite: guestLink,
      name: 'Alice',
      previous: alice['session'],
    });
    expect(takeover).toMatchObject({ status: 403, body: { code: 'forbidden' } });
    expect(takeover.body).not.toHaveProperty('session');
    expect(JSON.stringify(takeover.body)).not.toContain('alice-0001');
  });

  it("signaling's renew: Mallory's socket cannot take Alice's session, and stays Mallory", async () => {
    const room = 'takeover-signaling';
    const { alice, mallory } = await scene(room);
    const malloryClient = await TestClient.connect(ts.url, { token: mallory['session'] });
    sockets.push(malloryClient);
    const refused = await malloryClient.request('renew', { token: alice['session'] });
    expect(refused).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    // The room still knows her as herself: her peer's user id is hers, none is Alice's.
    await malloryClient.join();
    const peers = [...(ts.server.rooms.rooms.get(room)?.peers.values() ?? [])];
    expect(peers.map((p) => p.userId)).toEqual([mallory['userId']]);
  });

  it("the key service's renew: Mallory's /keys socket cannot take Alice's session", async () => {
    const room = 'takeover-keys';
    const { alice, mallory } = await scene(room);
    const malloryClient = await TestClient.connect(ts.url, { token: mallory['session'] });
    sockets.push(malloryClient);
    const keys = await rawKeys(mallory['session'] as string);
    const refused = (await keys.timeout(5_000).emitWithAck('renew', { token: alice['session'] })) as {
      ok: boolean;
      error?: { code: string };
    };
    expect(refused).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    // Her own session is accepted on the same socket: the refusal was about whose it was.
    const own = (await keys.timeout(5_000).emitWithAck('renew', { token: mallory['session'] })) as {
      ok: boolean;
    };
    expect(own.ok).toBe(true);
  });
});
