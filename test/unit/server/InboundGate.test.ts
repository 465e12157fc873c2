// The per-connection inbound rules (server/src/http/InboundGate.ts) on engine.io-like stand-ins:
// text packet size, and byte-rate backpressure by pausing reads.
// Packets are socket.io's encoding as engine.io hands it over (type digit, attachments, namespace).
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InboundGate, textPacketRefusal } from '../../../server/src/http/InboundGate.ts';

const RULES = { maxTextBytes: 1000 };

describe('textPacketRefusal', () => {
  it('lets ordinary packets through', () => {
    expect(textPacketRefusal('2/signaling,7["request",{"method":"join"}]', RULES)).toBeUndefined();
    expect(
      textPacketRefusal('51-/keys,3["publish",{"groupInfo":{"_placeholder":true,"num":0}}]', RULES),
    ).toBeUndefined();
    expect(textPacketRefusal('0/keys,{"token":"x"}', RULES)).toBeUndefined();
  });

  it('refuses text beyond the cap', () => {
    expect(textPacketRefusal(`2/signaling,["request","${'x'.repeat(1000)}"]`, RULES)).toBe('text-too-large');
  });
});

class FakeConnection extends EventEmitter {
  closed = false;
  readonly ws = {
    paused: false,
    pause: () => (this.ws.paused = true),
    resume: () => (this.ws.paused = false),
  };
  readonly transport = { name: 'websocket', socket: this.ws };
  close(): void {
    this.closed = true;
    this.emit('close');
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
    conn.emit('data', Buffer.alloc(1500));
    expect(conn.ws.paused).toBe(false);
    conn.emit('data', Buffer.alloc(1500)); // 1000 bytes over: one second of reading paused
    expect(conn.ws.paused).toBe(true);
    vi.advanceTimersByTime(900);
    expect(conn.ws.paused).toBe(true);
    vi.advanceTimersByTime(200);
    expect(conn.ws.paused).toBe(false);
    expect(conn.closed).toBe(false);
  });

  it('closes a connection that sends a refused packet, and reports why', () => {
    const reasons: string[] = [];
    const gate = new InboundGate({
      bytesPerSecond: 1e6,
      burstBytes: 1e6,
      ...RULES,
      onRefused: (r) => reasons.push(r),
    });
    const conn = new FakeConnection();
    gate.watch(conn);
    conn.emit('data', '2/signaling,["request",{}]');
    expect(conn.closed).toBe(false);
    conn.emit('data', `2/signaling,["request","${'x'.repeat(2000)}"]`);
    expect(conn.closed).toBe(true);
    expect(reasons).toEqual(['text-too-large']);
  });
});
