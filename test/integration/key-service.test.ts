import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_MLS_SUITE,
  PQ_MLS_SUITE,
  type KeyClient,
  type MlsSuiteName,
} from '@conclave/key-service/client';
import {
  hex,
  inSync,
  keyOf,
  must,
  recordKeys,
  ROOM,
  startHarness,
  until,
  type Harness,
} from './key-service.harness.ts';

const SUITES: MlsSuiteName[] = [DEFAULT_MLS_SUITE, PQ_MLS_SUITE];

let h: Harness | undefined;
afterEach(async () => {
  // Joins, leaves, races and restarts are all honest: no client may have refused any of them.
  const refusals = h?.refusals ?? [];
  await h?.close();
  h = undefined;
  expect(refusals).toEqual([]);
});

describe.each(SUITES)('meeting lifecycle (%s)', (suite) => {
  it('join, leave, rejoin: keys, roster and security code agree; leaver and joiner are cut off', async () => {
    const t = (h = await startHarness());
    const alice = t.client('alice-0001', { suite });
    const bob = t.client('bob-00001', { suite });
    const carol = t.client('carol-0001', { suite });
    const aliceKeys = recordKeys(alice);
    const bobKeys = recordKeys(bob);

    const first = await alice.start();
    expect(first.epoch).toBe(0n);
    expect(first.suite).toBe(suite);
    expect(first.nk).toBe(16);
    expect(first.baseKey.byteLength).toBe(16);
    await bob.start();
    await carol.start();
    const members = [alice, bob, carol];
    await inSync(members, 2n);
    for (const c of members) {
      expect(c.current?.securityCode).toBe(alice.current?.securityCode);
      expect(c.current?.securityCode).toMatch(/^\d{5}( \d{5}){5}$/);
      expect(c.current?.members.map((m) => `${m.leafIndex}:${m.userId}`)).toEqual([
        '0:alice-0001',
        '1:bob-00001',
        '2:carol-0001',
      ]);
    }
    expect(bob.current?.ownLeafIndex).toBe(1);
    expect(t.service.snapshot(ROOM)?.epoch).toBe(2);

    // Bob leaves (signaling reports him gone): alice, the lowest leaf, commits his removal.
    const epochTwoKey = keyOf(alice);
    t.service.peerGone(ROOM, 'bob-00001');
    await inSync([alice, carol], 3n);
    expect(alice.current?.members.map((m) => m.userId)).toEqual(['alice-0001', 'carol-0001']);
    const epochThreeKey = keyOf(alice);
    expect(epochThreeKey).not.toBe(epochTwoKey);
    // The removed member never held the new epoch's key.
    expect(bobKeys.map((k) => hex(k.baseKey))).not.toContain(epochThreeKey);
    expect(bobKeys.every((k) => k.epoch <= 2n)).toBe(true);

    // Dave joins: he cannot derive any earlier epoch's key.
    const dave = t.client('dave-00001', { suite });
    const daveKeys = recordKeys(dave);
    await dave.start();
    await inSync([alice, carol, dave], 4n);
    const earlier = aliceKeys.filter((k) => k.epoch < 4n).map((k) => hex(k.baseKey));
    expect(daveKeys.map((k) => k.epoch)).toEqual([4n]);
    expect(earlier).not.toContain(keyOf(dave));

    // Bob comes back with the same browser identity and user id: a fresh external join.
    bob.close();
    const bob2 = t.client('bob-00001', { suite, identityStore: undefined });
    await bob2.start();
    await inSync([alice, carol, dave, bob2], 5n);
    expect(new Set([alice, carol, dave, bob2].map((c) => c.current?.securityCode)).size).toBe(1);
    expect(bob2.current?.members.map((m) => m.userId).sort()).toEqual([
      'alice-0001',
      'bob-00001',
      'carol-0001',
      'dave-00001',
    ]);

    // Chat rides MLS application messages; the sender is MLS-authenticated.
    const received: string[] = [];
    carol.on('chat', (m) => received.push(`${m.from.userId}:${m.text}`));
    await dave.sendChat('hello');
    await until(() => received.length === 1, 5000, 'chat');
    expect(received).toEqual(['dave-00001:hello']);
  });
});

describe('ordering', () => {
  it('two members committing the same epoch at once: exactly one wins, the other converges', async () => {
    const t = (h = await startHarness());
    const [a, b, c] = ['alice-0001', 'bob-00001', 'carol-0001'].map((u) => t.client(u)) as [
      KeyClient,
      KeyClient,
      KeyClient,
    ];
    for (const x of [a, b, c]) await x.start();
    await inSync([a, b, c], 2n);
    const results = await Promise.all([a.rekey(), b.rekey()]);
    expect(results.filter(Boolean)).toHaveLength(1);
    await inSync([a, b, c], 3n);
    expect(t.service.snapshot(ROOM)?.epoch).toBe(3);
    // The loser can commit in the next epoch.
    expect(await (results[0] ? b : a).rekey()).toBe(true);
    await inSync([a, b, c], 4n);
  });

  it('asks the next member when the lowest leaf does not commit the removal', async () => {
    const t = (h = await startHarness({ removalTimeoutMs: 300 }));
    const clients: KeyClient[] = ['alice-0001', 'bob-00001', 'carol-0001', 'dave-00001'].map((u) =>
      t.client(u),
    );
    for (const x of clients) await x.start();
    await inSync(clients, 3n);
    const [alice, bob, carol, dave] = clients as [KeyClient, KeyClient, KeyClient, KeyClient];
    // Alice's client hangs (it stops processing anything): carol, the next leaf, must do it.
    alice.close();
    t.service.peerGone(ROOM, 'bob-00001');
    await inSync([carol, dave], 4n);
    expect(carol.current?.members.map((m) => m.userId)).not.toContain('bob-00001');
    expect(bob.current?.epoch).toBe(3n);
  });
});

describe('restart', () => {
  it('survives a key-service restart mid-meeting: members re-publish and the meeting goes on', async () => {
    const t = (h = await startHarness());
    const clients = ['alice-0001', 'bob-00001', 'carol-0001'].map((u) => t.client(u)) as [
      KeyClient,
      KeyClient,
      KeyClient,
    ];
    for (const x of clients) await x.start();
    await inSync(clients, 2n);
    const before = keyOf(must(clients[0]));
    await t.restart();
    expect(t.service.snapshot(ROOM)).toBeUndefined();
    await until(() => t.service.snapshot(ROOM)?.epoch === 2, 10_000, 're-published GroupInfo');
    await until(() => t.service.snapshot(ROOM)?.online.length === 3, 10_000, 'reconnections');
    // Nothing was rekeyed by the restart itself.
    expect(keyOf(must(clients[0]))).toBe(before);
    const dave = t.client('dave-00001');
    await dave.start();
    await inSync([...clients, dave], 3n);
    t.service.peerGone(ROOM, 'carol-0001');
    await inSync([clients[0], clients[1], dave], 4n);
  });

  it('a member the server disconnects (its user reported gone) comes back and rejoins the group', async () => {
    const t = (h = await startHarness());
    const alice = t.client('alice-0001');
    const bob = t.client('bob-00001');
    await alice.start();
    await bob.start();
    await inSync([alice, bob], 1n);
    // Signaling lost Bob (say his room's media worker died) while his browser is still there.
    t.service.peerGone(ROOM, 'bob-00001');
    await until(() => alice.current?.members.length === 1, 10_000, "Bob's removal");
    // Bob comes back by himself and joins the group again by external commit.
    await inSync([alice, bob], 3n);
    expect(bob.current?.members.map((m) => m.userId).sort()).toEqual(['alice-0001', 'bob-00001']);
  });

  it('after a restart a member that missed commits publishes first: the others rejoin its epoch', async () => {
    const t = (h = await startHarness());
    // Alice reconnects 3 s after losing the connection, well after Bob is back (1 s): Bob publishes.
    const alice = t.client('alice-0001', {
      socketOptions: { reconnectionDelay: 3000, reconnectionDelayMax: 3000, randomizationFactor: 0 },
    });
    const bob = t.client('bob-00001');
    await alice.start();
    await bob.start();
    await inSync([alice, bob], 1n);
    // Bob is cut off; Alice commits his removal (epoch 2), which Bob never sees; then the key
    // service restarts and forgets the group.
    t.service.peerGone(ROOM, 'bob-00001');
    await until(() => alice.current?.epoch === 2n, 10_000, "Bob's removal");
    await t.restart();
    await until(() => t.service.snapshot(ROOM)?.epoch === 1, 10_000, "Bob's GroupInfo of epoch 1");
    // Alice, at epoch 2 of a history nobody else has, joins the group as the service has it.
    await inSync([alice, bob], 2n);
    expect(alice.current?.members.map((m) => m.userId).sort()).toEqual(['alice-0001', 'bob-00001']);
    expect(t.service.snapshot(ROOM)?.epoch).toBe(2);
  });
});

describe('listeners', () => {
  it('a listener that throws stops neither the client nor its other listeners; the logger hears of it', async () => {
    const t = (h = await startHarness());
    const warnings: Array<{ obj: object; msg: string }> = [];
    const logger = { debug() {}, warn: (obj: object, msg: string) => warnings.push({ obj, msg }) };
    const alice = t.client('alice-0001', { logger });
    const bob = t.client('bob-00001');
    alice.on('epoch', () => {
      throw new Error('a broken media layer');
    });
    alice.on('membership', () => {
      throw new Error('a broken roster view');
    });
    const aliceKeys = recordKeys(alice);
    const joins: string[] = [];
    alice.on('membership', (change) => joins.push(change.by));

    await alice.start(); // resolves although the epoch listener threw
    await bob.start();
    await inSync([alice, bob], 1n);
    expect(aliceKeys.map((k) => k.epoch)).toEqual([0n, 1n]);
    expect(joins).toEqual(['bob-00001']);
    expect(warnings.filter((w) => w.msg === 'a key client listener threw').map((w) => w.obj)).toEqual([
      { event: 'epoch', err: 'a broken media layer' },
      { event: 'epoch', err: 'a broken media layer' },
      { event: 'membership', err: 'a broken roster view' },
    ]);
  });
});
