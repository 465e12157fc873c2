// The web client's half of the signaling boundary (web/src/lib/signaling/SignalingClient.ts) facing
// a hostile server: a bare socket.io server (not ours) sends raw notifications, acks and fatal
// events, and the client must hand its handlers only what matches the protocol's schemas.
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket } from 'socket.io';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Notification } from '../../../server/src/signaling/protocol.ts';
import {
  RequestError,
  SignalingClient,
  type SignalingFailure,
} from '../../../web/src/lib/signaling/SignalingClient.ts';

const rtpParameters = {
  mid: '0',
  codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }],
  encodings: [{ ssrc: 1111 }],
  rtcp: { cname: 'x', reducedSize: true },
};
const goodConsumer = {
  consumerId: 'c1',
  producerId: 'p1',
  peerId: 'peer-2',
  kind: 'audio',
  source: 'mic',
  rtpParameters,
  producerPaused: false,
};

/** Raw notifications no honest server sends; each must be dropped. */
const HOSTILE: unknown[] = [
  null,
  'peerJoined',
  [],
  { type: 'peerJoined' },
  { type: 'peerJoined', data: { peerId: 'p', userId: 'u' } },
  { type: 'peerJoined', data: { peerId: 42, userId: 'u', displayName: 'Mallory' } },
  { type: 'peerJoined', data: { peerId: 'p'.repeat(65), userId: 'u', displayName: 'Mallory' } },
  { type: 'peerJoined', data: { peerId: 'p', userId: 'u', displayName: 'M'.repeat(257) } },
  { type: 'newKeysPlease', data: {} },
  { type: '__proto__', data: {} },
  { type: 'newConsumer', data: { ...goodConsumer, source: 'audio' } },
  { type: 'newConsumer', data: { ...goodConsumer, kind: 'data' } },
  { type: 'newConsumer', data: { ...goodConsumer, rtpParameters: { codecs: [] } } },
  {
    type: 'newConsumer',
    data: { ...goodConsumer, rtpParameters: { ...rtpParameters, encodings: Array(9).fill({ ssrc: 1 }) } },
  },
  // A CNAME with a space becomes an msid the browser cannot parse: every later description fails.
  {
    type: 'newConsumer',
    data: { ...goodConsumer, rtpParameters: { ...rtpParameters, rtcp: { cname: 'Media room 1' } } },
  },
  { type: 'consumerPaused', data: { consumerId: '' } },
  { type: 'activeSpeaker', data: {} },
  { type: 'mutedByHost', data: { by: null } },
  { type: 'roomClosed', data: { reason: 'because' } },
];

let http: HttpServer;
let io: Server;
let url: string;
let serverSide: Promise<Socket>;
const clients: SignalingClient[] = [];

beforeEach(async () => {
  http = createServer();
  io = new Server(http, { transports: ['websocket'] });
  serverSide = new Promise((resolve) => io.of('/signaling').on('connection', resolve));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/signaling`;
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  vi.restoreAllMocks();
  await io.close();
});

function connect() {
  const notifications: Notification[] = [];
  const fatal: SignalingFailure[] = [];
  let onConnect = () => {};
  const connected = new Promise<void>((resolve) => (onConnect = resolve));
  const client = new SignalingClient(
    () => 'token',
    {
      onNotification: (n) => notifications.push(n),
      onFatal: (e) => fatal.push(e),
      onConnect: () => onConnect(),
      onDisconnect: () => {},
    },
    url,
  );
  clients.push(client);
  return { client, notifications, fatal, connected };
}

describe('SignalingClient against a hostile server', () => {
  it('drops every malformed notification with a warning and delivers the well-formed ones', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const { notifications, connected } = connect();
    await connected;
    const socket = await serverSide;
    const joined = { type: 'peerJoined', data: { peerId: 'peer-2', userId: 'u2', displayName: 'Bob' } };
    socket.emit('notification', joined);
    for (const raw of HOSTILE) socket.emit('notification', raw);
    socket.emit('notification', { type: 'newConsumer', data: goodConsumer });
    // socket.io keeps order: once the last one is in, every hostile one before it was handled.
    socket.emit('notification', { type: 'peerLeft', data: { peerId: 'peer-2' } });
    await vi.waitFor(() => expect(notifications).toHaveLength(3), { timeout: 2000 });
    expect(notifications).toEqual([
      joined,
      { type: 'newConsumer', data: goodConsumer },
      { type: 'peerLeft', data: { peerId: 'peer-2' } },
    ]);
    expect(warn).toHaveBeenCalledTimes(HOSTILE.length);
    for (const [message] of warn.mock.calls)
      expect(message).toMatch(/dropped a malformed signaling notification/);
  });

  it('strips keys the protocol does not name, so nothing unexpected reaches the meeting', async () => {
    const { notifications, connected } = connect();
    await connected;
    const socket = await serverSide;
    socket.emit('notification', {
      type: 'peerLeft',
      data: { peerId: 'peer-2', constructor: 'x', admin: true },
      extra: 1,
    });
    await vi.waitFor(() => expect(notifications).toHaveLength(1), { timeout: 2000 });
    expect(notifications[0]).toEqual({ type: 'peerLeft', data: { peerId: 'peer-2' } });
  });

  it("fails a request whose answer is not the method's result or an error", async () => {
    const { client, connected } = connect();
    await connected;
    const socket = await serverSide;
    const answers: unknown[] = [
      { ok: true, result: { producerId: 42 } },
      { ok: true },
      { ok: 'yes', result: { producerId: 'p1' } },
      { ok: false, error: { code: 'made-up-code', message: 'trust me' } },
      'ok',
    ];
    socket.on('request', (_request: unknown, ack: (answer: unknown) => void) => ack(answers.shift()));
    for (let i = 0; i < 5; i++) {
      const failure = await client
        .request('produce', {
          transportId: 't1',
          kind: 'audio',
          rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000 }] },
          source: 'mic',
        })
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(RequestError);
      expect(failure).toMatchObject({ code: 'malformed-response', name: 'RequestError' });
    }
  });

  it("passes on a well-formed answer and the server's own error code", async () => {
    const { client, connected } = connect();
    await connected;
    const socket = await serverSide;
    const answers: unknown[] = [
      { ok: true, result: { producerId: 'p1' } },
      { ok: false, error: { code: 'rate-limited', message: 'too many requests; slow down' } },
    ];
    socket.on('request', (_request: unknown, ack: (answer: unknown) => void) => ack(answers.shift()));
    await expect(
      client.request('produce', {
        transportId: 't1',
        kind: 'audio',
        rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000 }] },
        source: 'mic',
      }),
    ).resolves.toEqual({ producerId: 'p1' });
    await expect(client.request('leave', {})).rejects.toMatchObject({
      code: 'rate-limited',
      message: 'too many requests; slow down',
    });
  });

  it('drops a malformed fatal event and delivers a well-formed one', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const { fatal, connected } = connect();
    await connected;
    const socket = await serverSide;
    socket.emit('fatal', { code: 'you-are-admin-now', message: 'x' });
    socket.emit('fatal', { code: 'removed' });
    socket.emit('fatal', { code: 'removed', message: 'A host removed you from the meeting' });
    await vi.waitFor(() => expect(fatal).toHaveLength(1), { timeout: 2000 });
    expect(fatal).toEqual([{ code: 'removed', message: 'A host removed you from the meeting' }]);
    expect(warn).toHaveBeenCalledTimes(2);
  });
});
