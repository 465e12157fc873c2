// The per-connection inbound rules (server/src/http/InboundGate.ts) on engine.io-like stand-ins:
// text packet size, and byte-rate backpressure by pausing reads.
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InboundGate, messageRefusal } from '../../../server/src/http/InboundGate.ts';

const RULES = { maxTextBytes: 1000 };

describe('messageRefusal', () => {
  it('lets text up to the cap and binary of any size through (binary is bounded by maxHttpBufferSize)', () => {
    expect(messageRefusal(1000, false, RULES)).toBeUndefined();
    expect(messageRefusal(5_000_000, true, RULES)).toBeUndefined();
  });

  it('refuses text beyond the cap', () => {
    expect(messageRefusal(1001, false, RULES)).toBe('text-too-large');
  });
});

/** engine.io's connection and its `ws` WebSocket, reduced to what the gate touches. */
class FakeConnection extends EventEmitter {
  readonly remoteAddress = '192.0.2.1';
  closed = false;
  readonly engineSaw: number[] = [];
  readonly ws = Object.assign(new EventEmitter<{ message: [data: Buffer, isBinary: boolean] }>(), {
    paused: false,
    pause: () => (this.ws.paused = true),
    resume: () => (this.ws.paused = false),
  });
  readonly transport = { name: 'websocket', socket: this.ws };
  constructor() {
    super();
    this.ws.on('message', (data: Buffer) => this.engineSaw.push(data.length));
  }
  close(): void {
    this.closed = true;
    this.emit('close');
  }
  receive(bytes: number, isBinary = true): void {
    this.ws.emit('message', Buffer.alloc(bytes), isBinary);
  }
}

describe('InboundGate', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('pauses reading a connection past its byte budget until the bucket refills, without closing it', () => {
    vi.useFakeTimers();
    const gate = new InboundGate({ bytesPerSecond: 1000, burstBytes: 2000, ...RULES });
    const conn = new FakeConnection();
    gate.watch(conn);
    conn.receive(1500);
    expect(conn.ws.paused).toBe(false);
    conn.receive(1500); // 1000 bytes over: one second of reading paused
    expect(conn.ws.paused).toBe(true);
    vi.advanceTimersByTime(900);
    expect(conn.ws.paused).toBe(true);
    vi.advanceTimersByTime(200);
    expect(conn.ws.paused).toBe(false);
    expect(conn.closed).toBe(false);
    expect(conn.engineSaw).toEqual([1500, 1500]);
  });

  it('closes a connection sending an oversized text message, which engine.io never sees', () => {
    const reasons: string[] = [];
    const gate = new InboundGate({
      bytesPerSecond: 1e6,
      burstBytes: 1e6,
      ...RULES,
      onRefused: (r) => reasons.push(r),
    });
    const conn = new FakeConnection();
    gate.watch(conn);
    conn.receive(100, false);
    expect(conn.closed).toBe(false);
    conn.receive(2000, false);
    conn.receive(100, false); // after the close: dropped
    expect(conn.closed).toBe(true);
    expect(reasons).toEqual(['text-too-large']);
    expect(conn.engineSaw).toEqual([100]);
  });
});
