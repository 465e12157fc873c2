// The rekey in one room of `size` members, with the real key service: the room is grown by external
// joins (one after another, in turn) of members that go passive (RoomMember.ts), then three full
// members join last on the product's own crypto provider (WebCrypto, as in browsers): two that
// process and the committer. A round is the committer's empty commit (fresh path secrets, what every
// member must process); its figure is
//   rekey_all = fan-out (from the commit's start until the last member's socket has it: commit
//               creation, the key service's checks, the relay to size − 1 people)
//             + the slowest sampled member's processing (its KeyClient holding the new epoch minus
//               the commit's arrival; each member processes on its own device, in parallel).
// Median of ROUNDS rounds.
import { median, type Metric } from '../metric.ts';
import { nodeCryptoProvider } from '../load/nodeCryptoProvider.ts';
import type { KeyServiceProcess } from './keyServiceProcess.ts';
import { RoomMember, type MemberContext } from './RoomMember.ts';

const ROUNDS = 3;
const SAMPLED = 2;
const ROUND_TIMEOUT_MS = 60_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runRoomRekey(
  service: KeyServiceProcess,
  size: number,
  log: (line: string) => void,
): Promise<Metric[]> {
  const room = `rekey-${size}`;
  const ctx: MemberContext = {
    url: service.url,
    room,
    mintToken: (sub, host) => service.tokens.mintSession({ room, sub, name: sub, host }),
    report: (kind, message) => {
      throw new Error(`${kind}: ${message}`);
    },
  };
  const device = (i: number) => size * 100 + i; // apart from the storm's and the other room's people
  const members: RoomMember[] = [];
  try {
    const grown = performance.now();
    for (let i = 0; i < size - SAMPLED - 1; i++) {
      const member = await RoomMember.connect(ctx, device(i), i === 0);
      await member.join(nodeCryptoProvider);
      member.goPassive();
      members.push(member);
    }
    const full: RoomMember[] = [];
    for (let i = size - SAMPLED - 1; i < size; i++) {
      const member = await RoomMember.connect(ctx, device(i));
      await member.join(undefined); // WebCrypto, as browsers do
      members.push(member);
      full.push(member);
    }
    log(`rekey@${size}: room grown in ${((performance.now() - grown) / 1000).toFixed(1)} s`);
    const committer = full[full.length - 1]!;
    const processors = full.slice(0, -1);
    const rounds: Array<{ fanout: number; process: number }> = [];
    for (let r = 0; r < ROUNDS; r++) {
      const epoch = Number(committer.keys!.epoch) + 1;
      const t0 = performance.now();
      await committer.rekey();
      const deadline = t0 + ROUND_TIMEOUT_MS;
      const done = () =>
        members.every((m) => m.commitArrivals.has(epoch)) && processors.every((p) => p.epochsHeld.has(epoch));
      while (!done()) {
        if (performance.now() > deadline)
          throw new Error(`rekey@${size}: epoch ${epoch} did not reach everyone`);
        await sleep(5);
      }
      const fanout = Math.max(...members.map((m) => m.commitArrivals.get(epoch)!)) - t0;
      const process = Math.max(
        ...processors.map((p) => p.epochsHeld.get(epoch)! - p.commitArrivals.get(epoch)!),
      );
      rounds.push({ fanout, process });
      log(
        `rekey@${size} round ${r + 1}: fan-out ${fanout.toFixed(0)} ms + processing ${process.toFixed(0)} ms`,
      );
    }
    const fanout = median(rounds.map((r) => r.fanout));
    const process = median(rounds.map((r) => r.process));
    return [
      {
        metric: `large.rekey_all_ms@${size}`,
        value: median(rounds.map((r) => r.fanout + r.process)),
        unit: 'ms',
      },
      { metric: `large.rekey_fanout_ms@${size}`, value: fanout, unit: 'ms' },
      { metric: `large.rekey_process_ms@${size}`, value: process, unit: 'ms' },
    ];
  } finally {
    for (const m of members) m.close();
  }
}
