// The child side of mediaRoomProcess.ts: runs one startMediaRoom in this process and answers its
// parent over the IPC channel. Messages in: { type: 'stop' } | { type: 'errors' }. Messages out:
// { type: 'ready', … } once every participant has joined, { type: 'failed', message } if the room
// could not be filled, { type: 'errors', errors } when asked, { type: 'stopped', cpuMs } at the end.
import { startMediaRoom, type MediaRoom, type MediaRoomOptions } from './mediaRoom.ts';

type ParentMessage = { type: 'stop' } | { type: 'errors' };

const send = (message: unknown) => process.send?.(message);
const options = JSON.parse(process.argv[2] ?? '{}') as MediaRoomOptions;
let room: MediaRoom | undefined;

async function stop(): Promise<void> {
  await room?.stop();
  const { user, system } = process.cpuUsage();
  send({ type: 'stopped', cpuMs: (user + system) / 1000 });
  process.disconnect?.();
  setTimeout(() => process.exit(0), 100).unref();
}

process.on('message', (message: ParentMessage) => {
  if (message.type === 'stop') void stop();
  else if (message.type === 'errors') send({ type: 'errors', errors: room?.errors ?? {} });
});
// The parent went away without a word: leave the meeting rather than send into it forever.
process.on('disconnect', () => void room?.stop().finally(() => process.exit(0)));

try {
  room = await startMediaRoom({ ...options, log: (line) => send({ type: 'log', line }) });
  send({
    type: 'ready',
    room: room.room,
    guestInvite: room.guestInvite,
    participants: room.participants.map((p) => ({ name: p.name, colour: p.colour, peerId: p.peerId })),
  });
} catch (error) {
  send({ type: 'failed', message: (error as Error).message });
  process.exit(1);
}
