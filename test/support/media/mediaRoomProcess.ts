// A room of simulated media participants (mediaRoom.ts) in a process of its own, for browser tests:
// thirty pure-JS MLS members sealing real SFrame media take a core's worth of CPU, which must not
// stall the test runner's event loop (and with it the browser's automation), and whose cost is then
// measured apart from the browser's.
//
//   const room = await startMediaRoomProcess({ serverUrl, participants: 30, receives: false });
//   room.guestInvite, room.participants[i].{ name, colour, peerId }
//   await room.errors()     // problems so far, by kind (MediaRoom.errors)
//   await room.stop()       // leaves; resolves with the child's CPU time in ms
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MediaRoomOptions } from './mediaRoom.ts';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'mediaRoomChild.ts');
const STOP_TIMEOUT_MS = 10_000;

export interface RemoteParticipant {
  name: string;
  colour: string | undefined;
  peerId: string;
}

export interface MediaRoomProcess {
  room: string;
  guestInvite: string | undefined;
  participants: readonly RemoteParticipant[];
  pid: number;
  errors(): Promise<Record<string, { count: number; example: string }>>;
  stop(): Promise<{ cpuMs: number | undefined }>;
}

type ChildMessage =
  | { type: 'ready'; room: string; guestInvite: string | undefined; participants: RemoteParticipant[] }
  | { type: 'failed'; message: string }
  | { type: 'log'; line: string }
  | { type: 'errors'; errors: Record<string, { count: number; example: string }> }
  | { type: 'stopped'; cpuMs: number };

/** Starts the child and resolves once all its participants have joined. */
export function startMediaRoomProcess(
  options: Omit<MediaRoomOptions, 'log'>,
  log?: (line: string) => void,
): Promise<MediaRoomProcess> {
  const child = fork(CHILD, [JSON.stringify(options)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.on('exit', (code) =>
      reject(new Error(`the media room process exited (${code}) before it was ready`)),
    );
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'log') log?.(message.line);
      else if (message.type === 'failed') reject(new Error(`the media room failed: ${message.message}`));
      else if (message.type === 'ready') resolve(remote(child, message));
    });
  });
}

function remote(child: ChildProcess, ready: Extract<ChildMessage, { type: 'ready' }>): MediaRoomProcess {
  const next = <T extends ChildMessage['type']>(type: T) =>
    new Promise<Extract<ChildMessage, { type: T }> | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), STOP_TIMEOUT_MS);
      const onMessage = (message: ChildMessage) => {
        if (message.type !== type) return;
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve(message as Extract<ChildMessage, { type: T }>);
      };
      child.on('message', onMessage);
    });
  let stopped: Promise<{ cpuMs: number | undefined }> | undefined;
  return {
    room: ready.room,
    guestInvite: ready.guestInvite,
    participants: ready.participants,
    pid: child.pid!,
    async errors() {
      const answer = next('errors');
      child.send({ type: 'errors' });
      return (await answer)?.errors ?? { 'process:no-answer': { count: 1, example: 'no errors answer' } };
    },
    stop() {
      stopped ??= (async () => {
        if (child.exitCode !== null) return { cpuMs: undefined };
        const answer = next('stopped');
        child.send({ type: 'stop' });
        const done = await answer;
        if (done === undefined) child.kill('SIGKILL');
        return { cpuMs: done?.cpuMs };
      })();
      return stopped;
    },
  };
}
