// The sending and receiving ends of test/support/rtpFlow.ts, on a thread of their own so that a
// busy main thread (a server under fuzzing, in the same process) cannot hold the flow back: what
// this thread sees is what the SFU forwarded. Plain JavaScript: worker threads load it as it is.
import dgram from 'node:dgram';
import { parentPort, workerData } from 'node:worker_threads';

const { producerPort, ssrc, payloadType, intervalMs } = workerData;
const sender = dgram.createSocket('udp4');
const sink = dgram.createSocket('udp4');
let sent = 0;
let received = 0;
let window; // { last, maxGap, maxLatency } while a measurement runs

const now = () => performance.timeOrigin + performance.now();

sink.on('message', (packet) => {
  const type = packet[1] & 0x7f;
  // RTCP shares the port (RFC 5761): packet types 200-206 read as payload types 72-78.
  if (type >= 72 && type <= 78) return;
  received += 1;
  // The SFU may add header extensions: the payload starts after them (RFC 3550 §5.1, RFC 8285).
  let payload = 12 + 4 * (packet[0] & 0x0f);
  if ((packet[0] & 0x10) !== 0) payload += 4 + 4 * packet.readUInt16BE(payload + 2);
  if (window !== undefined && packet.length >= payload + 8) {
    const at = now();
    window.maxGap = Math.max(window.maxGap, at - window.last);
    window.last = at;
    // The payload starts with the time the packet was sent (the SFU forwards it untouched).
    window.maxLatency = Math.max(window.maxLatency, at - packet.readDoubleBE(payload));
  }
});

function packet(sequence) {
  const bytes = Buffer.alloc(12 + 80, 0x5a);
  bytes[0] = 0x80;
  bytes[1] = payloadType;
  bytes.writeUInt16BE(sequence & 0xffff, 2);
  bytes.writeUInt32BE((sequence * 960) >>> 0, 4);
  bytes.writeUInt32BE(ssrc >>> 0, 8);
  bytes.writeDoubleBE(now(), 12);
  return bytes;
}

sink.bind(0, '127.0.0.1', () => {
  parentPort.postMessage({ type: 'bound', sinkPort: sink.address().port });
});

let timer;
parentPort.on('message', (message) => {
  switch (message.type) {
    case 'start':
      timer = setInterval(() => {
        sender.send(packet(sent), producerPort, '127.0.0.1');
        sent += 1;
      }, intervalMs);
      break;
    case 'window-start':
      window = { last: now(), maxGap: 0, maxLatency: 0 };
      break;
    case 'report': {
      const at = now();
      const maxGap = window === undefined ? 0 : Math.max(window.maxGap, at - window.last);
      const maxLatency = window?.maxLatency ?? 0;
      parentPort.postMessage({ type: 'report', sent, received, maxGapMs: maxGap, maxLatencyMs: maxLatency });
      break;
    }
    case 'stop':
      clearInterval(timer);
      sender.close();
      sink.close();
      parentPort.close();
      break;
  }
});
