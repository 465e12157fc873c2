// What one socket.io connection may send us, checked on every engine.io message before socket.io
// decodes it, so that a participant sending megabyte messages costs everyone else little:
// - bytes per second: a token bucket per connection (`bytesPerSecond` sustained, `burstBytes` at
//   once). A connection past it is not dropped but slowed: its WebSocket stops being read (TCP
//   backpressure) until the bucket has refilled, so the flood waits in the sender's own buffers.
// - text messages (JSON: every signaling request, the framing of key-service requests) of at most
//   `maxTextBytes`: signaling refuses requests over 64 kB anyway, but only after decoding them.
//   A larger packet closes its connection (the client may reconnect, within the per-address
//   handshake rate). Binary attachments are not decoded (socket.io keeps them as Buffers), and
//   signaling sizes them without serialising them, so they need no rule of their own here.
// socket.io's `maxHttpBufferSize` bounds each message's size before any of this runs.

import type { IncomingMessage } from 'node:http';

type MessageListener = (data: Buffer, isBinary: boolean) => void;

/** The WebSocket (the `ws` package's) under an engine.io connection. */
export interface GatedWebSocket {
  pause(): void;
  resume(): void;
  listeners(event: 'message'): MessageListener[];
  removeAllListeners(event: 'message'): unknown;
  on(event: 'message', listener: MessageListener): unknown;
}

/** The parts of an engine.io socket (and its WebSocket transport) the gate uses. */
export interface EngineConnection {
  remoteAddress: string;
  /** The handshake request: behind a trusted proxy it names the client to penalise. */
  request?: IncomingMessage;
  transport: { name: string; socket?: GatedWebSocket };
  once(event: 'close', listener: () => void): unknown;
  close(): void;
}

export interface InboundGateOptions {
  bytesPerSecond: number;
  burstBytes: number;
  maxTextBytes: number;
  /** A connection is being closed for `reason` (the server penalises its address, say). */
  onRefused?: (reason: InboundRefusal, conn: EngineConnection) => void;
}

export type InboundRefusal = 'text-too-large';

/** Why a WebSocket message is refused, or undefined when it may go on. */
export function messageRefusal(
  bytes: number,
  isBinary: boolean,
  options: Pick<InboundGateOptions, 'maxTextBytes'>,
): InboundRefusal | undefined {
  return !isBinary && bytes > options.maxTextBytes ? 'text-too-large' : undefined;
}

export class InboundGate {
  readonly #options: InboundGateOptions;

  constructor(options: InboundGateOptions) {
    this.#options = options;
  }

  /**
   * Applies the rules to every message `conn` receives, until it closes. They run in front of
   * engine.io's own message listener (which they wrap): a refused message is never turned into a
   * string, let alone decoded by socket.io.
   */
  watch(conn: EngineConnection): void {
    const ws = conn.transport.name === 'websocket' ? conn.transport.socket : undefined;
    if (ws === undefined) return; // the server offers WebSocket only
    const { bytesPerSecond, burstBytes } = this.#options;
    let tokens = burstBytes;
    let at = performance.now();
    let resumeTimer: ReturnType<typeof setTimeout> | undefined;
    let closed = false;
    conn.once('close', () => {
      closed = true;
      clearTimeout(resumeTimer);
    });
    const engineListeners = ws.listeners('message');
    ws.removeAllListeners('message');
    ws.on('message', (data, isBinary) => {
      if (closed) return;
      const refusal = messageRefusal(data.length, isBinary, this.#options);
      if (refusal !== undefined) {
        closed = true;
        this.#options.onRefused?.(refusal, conn);
        conn.close();
        return;
      }
      for (const listener of engineListeners) listener.call(ws, data, isBinary);
      const now = performance.now();
      tokens = Math.min(burstBytes, tokens + ((now - at) / 1000) * bytesPerSecond);
      at = now;
      tokens -= data.length;
      if (tokens >= 0 || resumeTimer !== undefined) return;
      // Over budget: read nothing more from this connection until the bucket is back above zero.
      ws.pause();
      resumeTimer = setTimeout(
        () => {
          resumeTimer = undefined;
          if (!closed) ws.resume();
        },
        Math.ceil((-tokens / bytesPerSecond) * 1000),
      );
    });
  }
}
