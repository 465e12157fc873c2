// A flooding participant process for flood.bench.ts: `node --import tsx test/bench/flood/flooder.ts
// <server url> <sessions JSON> <seconds> <message bytes>`. Each session is an ordinary participant
// (a valid token) whose signaling socket stays connected, so its /keys socket belongs to a live peer;
// both sockets then send one `<message bytes>`-sized message every FLOOD_INTERVAL_MS: a signaling
// request padded with a string, and a key-service `publish` / `app` carrying that many random bytes
// (with `keys`, only the key-service socket floods: binary MLS-sized messages, which stay within the
// server's message cap as long as the GroupInfo cap is above their size).
// A socket the server drops comes back (a persistent attacker), as fast as the server lets it.
// Runs apart from the benchmark so that producing the flood does not slow the measuring client.
// Prints one JSON line at the end: { sent, sentBytes, acks, disconnects, refusedConnects }.
import { randomBytes } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';

const FLOOD_INTERVAL_MS = 50;
const RECONNECT_MS = 100;

const [url, sessionsJson, secondsArg, bytesArg, targets = 'both'] = process.argv.slice(2);
if (url === undefined || sessionsJson === undefined) {
  throw new Error('usage: flooder.ts <url> <sessions JSON> <seconds> <message bytes>');
}
const sessions = JSON.parse(sessionsJson) as { token: string; address: string }[];
const seconds = Number(secondsArg ?? 8);
const messageBytes = Number(bytesArg ?? 1_000_000);
const counts = { sent: 0, sentBytes: 0, acks: 0, disconnects: 0, refusedConnects: 0 };
const blob = randomBytes(messageBytes);
const padding = 'x'.repeat(messageBytes);
const sockets: Socket[] = [];
const timers: ReturnType<typeof setInterval>[] = [];

function open(namespace: string, session: { token: string; address: string }): Socket {
  const socket = io(`${url}${namespace}`, {
    auth: { token: session.token },
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    localAddress: session.address,
  } as Parameters<typeof io>[1]);
  socket.on('connect_error', () => {
    counts.refusedConnects += 1;
    setTimeout(() => socket.connect(), RECONNECT_MS);
  });
  socket.on('disconnect', () => {
    counts.disconnects += 1;
    setTimeout(() => socket.connect(), RECONNECT_MS);
  });
  sockets.push(socket);
  return socket;
}

function flood(socket: Socket, send: (socket: Socket, done: () => void) => void): void {
  timers.push(
    setInterval(() => {
      if (!socket.connected) return;
      counts.sent += 1;
      counts.sentBytes += messageBytes;
      send(socket, () => (counts.acks += 1));
    }, FLOOD_INTERVAL_MS),
  );
}

for (const session of sessions) {
  const signaling = open('/signaling', session);
  if (targets === 'both') {
    flood(signaling, (s, done) =>
      s.emit('request', { method: 'getRouterRtpCapabilities', data: { padding } }, done),
    );
  }
  // The key service is reached only once signaling has a peer for this session.
  signaling.once('connect', () => {
    const keys = open('/keys', session);
    let turn = 0;
    flood(keys, (s, done) => {
      turn += 1;
      if (turn % 2 === 0) s.emit('publish', { groupInfo: blob }, done);
      else s.emit('app', { message: blob }, done);
    });
  });
}

setTimeout(() => {
  for (const t of timers) clearInterval(t);
  for (const s of sockets) {
    s.removeAllListeners();
    s.close();
  }
  console.log(JSON.stringify(counts));
  process.exit(0);
}, seconds * 1000);
