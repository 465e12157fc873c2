// A worker thread holding a storm's full members (the host and the sampled joiners), so that their
// processing of every commit runs on the other core, not on the joiners' thread: on the generator
// each of them costs what a whole device would. The main thread (FullMembers.ts) tells it when each
// one joins and asks at the end whether they agree.
import { parentPort, workerData } from 'node:worker_threads';
import { TokenAuthority } from '@conclave/server/tokens';
import { nodeCryptoProvider } from '../load/nodeCryptoProvider.ts';
import { RoomMember, type MemberContext } from './RoomMember.ts';

export interface FullMembersSetup {
  url: string;
  room: string;
  secret: string;
}
export type FullMembersCommand =
  | { type: 'join'; id: number; device: number; host: boolean }
  | { type: 'converge'; id: number; epoch: number; timeoutMs: number }
  | { type: 'close'; id: number };
export type FullMembersReply =
  | { type: 'done'; id: number; value: number | string | undefined }
  | { type: 'failed'; id: number; message: string; code: string }
  | { type: 'problem'; kind: string; message: string };

const port = parentPort!;
const setup = workerData as FullMembersSetup;
const tokens = new TokenAuthority(new Uint8Array(Buffer.from(setup.secret, 'base64url')), {
  inviteSeconds: 3600,
  sessionSeconds: 3600,
});
const ctx: MemberContext = {
  url: setup.url,
  room: setup.room,
  mintToken: (sub, host) => tokens.mintSession({ room: setup.room, sub, name: sub, host }),
  report: (kind, message) => port.postMessage({ type: 'problem', kind, message } satisfies FullMembersReply),
};
const members: RoomMember[] = [];

async function run(command: FullMembersCommand): Promise<number | string | undefined> {
  switch (command.type) {
    case 'join': {
      const member = await RoomMember.connect(ctx, command.device, command.host);
      members.push(member);
      return member.join(nodeCryptoProvider);
    }
    case 'converge':
      return disagreement(command.epoch, command.timeoutMs);
    case 'close':
      for (const m of members) m.close();
      return undefined;
  }
}

/** Undefined once every member holds `epoch` with one security code; otherwise what differs. */
async function disagreement(epoch: number, timeoutMs: number): Promise<string | undefined> {
  const deadline = performance.now() + timeoutMs;
  while (members.some((m) => m.keys?.epoch !== BigInt(epoch)) && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const held = new Set(members.map((m) => `${m.keys?.epoch}:${m.keys?.securityCode}`));
  return held.size === 1 && members[0]?.keys?.epoch === BigInt(epoch)
    ? undefined
    : `full members hold ${[...held].join(', ')}`;
}

port.on('message', (command: FullMembersCommand) => {
  run(command).then(
    (value) => port.postMessage({ type: 'done', id: command.id, value } satisfies FullMembersReply),
    (error: unknown) =>
      port.postMessage({
        type: 'failed',
        id: command.id,
        message: String((error as Error).message ?? error),
        code: (error as { code?: string }).code ?? 'error',
      } satisfies FullMembersReply),
  );
});
