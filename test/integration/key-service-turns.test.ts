// Joiners take turns at the external commit (key-service/src/server/join-turns.ts) against the real
// key service and real MLS clients: a crowd joining at once gets in without racing for epochs; a raw
// joiner who takes a turn and never commits holds up the queue only until its turn times out; one
// who ignores the queue meets the epoch fencing and, while another holds the turn, 'not-your-turn';
// one who floods the queue takes one turn like everybody else.
import { createGroupInfoWithExternalPubAndRatchetTree, encodeMlsMessage, joinGroupExternal } from 'ts-mls';
import { afterEach, describe, expect, it } from 'vitest';
import type { KeyClient } from '@conclave/key-service/client';
import { MlsAttacker } from '../support/mlsAttacker.ts';
import { inSync, ROOM, startHarness, until, type Harness } from './key-service.harness.ts';

const TURN_MS = 600;

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function meeting(joinTurnMs = TURN_MS): Promise<{ t: Harness; host: KeyClient }> {
  const t = (h = await startHarness({ joinTurnMs, rateBurst: 200, ratePerSecond: 200 }));
  const host = t.client('host-00001');
  await host.start();
  return { t, host };
}

async function attacker(t: Harness, userId: string): Promise<MlsAttacker> {
  const token = await t.tokens.mintSession({ room: ROOM, sub: userId, name: userId, host: false });
  const a = await MlsAttacker.connect(t.url, token, userId);
  t.sockets.push(a.socket);
  return a;
}

const guests = (t: Harness, n: number) =>
  Array.from({ length: n }, (_, i) => t.client(`guest-${String(i).padStart(4, '0')}`, { host: false }));

describe('joiners take turns at the external commit', () => {
  it('a crowd joining at once gets in, one commit per turn, without losing a race for an epoch', async () => {
    // The default turn (2 s): nine MLS clients share this process's event loop, and a shorter turn
    // can lapse while its holder's commit is being built (it then asks again, at the back).
    const { t, host } = await meeting(2000);
    const crowd = guests(t, 8);
    await Promise.all(crowd.map((c) => c.start()));
    await inSync([host, ...crowd], 8n);
    const stats = t.service.stats();
    expect(stats.commits).toBe(8);
    // Without turns, every joiner but one per epoch would have built its commit for nothing.
    expect(stats.commitRejections['stale-epoch']).toBeUndefined();
  });

  it('a joiner who takes a turn and never commits holds the queue only until its turn times out', async () => {
    const { t, host } = await meeting();
    const idle = await attacker(t, 'idle-00001');
    expect(await idle.request('turn', {})).toMatchObject({ ok: true, result: { epoch: 0 } });
    const started = Date.now();
    const [guest] = guests(t, 1);
    await guest!.start();
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(TURN_MS - 100);
    await inSync([host, guest!], 1n);
    // Its turn is over: a commit now, after the guest's, is for an epoch that has passed.
    const late = await idle.join();
    expect(late.ok).toBe(true); // built from the current GroupInfo, with nobody holding the turn
    await inSync([host, guest!], 2n);
  });

  it('a joiner who ignores the queue is refused while another holds the turn, and fenced by the epoch', async () => {
    const { t, host } = await meeting();
    const holder = await attacker(t, 'holder-0001');
    const jumper = await attacker(t, 'jumper-0001');
    expect((await holder.request('turn', {})).ok).toBe(true);

    const early = await externalCommit(jumper);
    expect((await jumper.request('commit', early)).error).toMatchObject({ code: 'not-your-turn', epoch: 0 });
    expect(t.service.snapshot(ROOM)?.epoch).toBe(0);
    expect(host.epoch).toBe(0n);

    // The holder's own commit lands and ends its turn; with nobody holding one, the jumper's commits
    // are judged by the epoch alone: the one built for epoch 0 is stale, a fresh one is accepted.
    expect((await holder.join()).ok).toBe(true);
    expect((await jumper.request('commit', early)).error).toMatchObject({ code: 'stale-epoch', epoch: 1 });
    expect((await jumper.join()).ok).toBe(true);
    expect(t.service.snapshot(ROOM)?.epoch).toBe(2);
    await until(() => host.epoch === 2n, 5000, 'the host at epoch 2');
  });

  it('a flooder asking for turns and committing out of turn takes one turn; the others still join', async () => {
    // A long turn, so that only the holder's leaving passes it on (never the clock, on a busy machine).
    const { t, host } = await meeting(10_000);
    const holder = await attacker(t, 'holder-0001');
    expect((await holder.request('turn', {})).ok).toBe(true);
    const flooder = await attacker(t, 'flood-00001');
    // Twenty requests for a turn at once: one place in the queue, all answered when its turn comes.
    const asking = Promise.all(Array.from({ length: 20 }, () => flooder.request('turn', {})));
    expect((await flooder.join()).error?.code).toBe('not-your-turn');
    const crowd = guests(t, 4);
    const joined = Promise.all(crowd.map((c) => c.start()));
    let flooding = true;
    const commits: string[] = [];
    const committing = (async () => {
      while (flooding) {
        const answer = await flooder.join();
        commits.push(answer.ok ? 'joined' : answer.error!.code);
      }
    })();
    holder.socket.disconnect(); // its turn passes on: to the flooder, then to the crowd
    await joined;
    flooding = false;
    await committing;
    const turns = await asking;
    expect(turns.every((a) => a.ok)).toBe(true);
    expect(new Set(turns.map((a) => JSON.stringify(a.result))).size).toBe(1); // one turn, one answer
    await inSync([host, ...crowd]);
    const members = t.service.snapshot(ROOM)!.members.map((m) => m.userId);
    for (const c of crowd) expect(members).toContain(c.userId);
  });
});

/** An external commit by `joiner` for the current epoch, built and not sent. */
async function externalCommit(joiner: MlsAttacker): Promise<{ commit: Uint8Array; groupInfo: Uint8Array }> {
  const kp = await joiner.keyPackage(joiner.userId);
  const { publicMessage, newState } = await joinGroupExternal(
    await joiner.groupInfo(),
    kp.publicPackage,
    kp.privatePackage,
    false,
    joiner.impl,
  );
  const groupInfo = await createGroupInfoWithExternalPubAndRatchetTree(newState, [], joiner.impl);
  return {
    commit: encodeMlsMessage({ version: 'mls10', wireformat: 'mls_public_message', publicMessage }),
    groupInfo: encodeMlsMessage({ version: 'mls10', wireformat: 'mls_group_info', groupInfo }),
  };
}
