// What one socket.io connection may send us, checked on every engine.io message before socket.io
// decodes it, so that a participant sending megabyte messages costs everyone else little:
// - bytes per second: a token bucket per connection (`bytesPerSecond` sustained, `burstBytes` at
//   once). A connection past it is not dropped but slowed: its WebSocket stops being read (TCP
//   backpressure) until the bucket has refilled, so the flood waits in the sender's own buffers.
// - text packets (JSON: every signaling request, the framing of key-service requests) of at most
//   `maxTextBytes`: signaling refuses requests over 64 kB anyway, but only after decoding them.
//   A larger packet closes its connection (the client may reconnect, within the per-address
//   handshake rate). Binary attachments are not decoded (socket.io keeps them as Buffers), and
//   signaling sizes them without serialising them, so they need no rule of their own here.
// socket.io's `maxHttpBufferSize` bounds each message's size before any of this runs.

/** The parts of an engine.io socket (and its WebSocket transport) the gate uses. */
export interface EngineConnection {
  transport: { name: string; socket?: { pause(): void; resume(): void } };
  prependListener(event: 'data', listener: (data: string | Buffer) => void): unknown;
  once(event: 'close', listener: () => void): unknown;
  close(): void;
}

export interface InboundGateOptions {
  bytesPerSecond: number;
  burstBytes: number;
  maxTextBytes: number;
  onRefused?: (reason: InboundRefusal) => void;
}

export type InboundRefusal = 'text-too-large';

/** Why a socket.io packet's text is refused, or undefined when it may go on. */
export function textPacketRefusal(
  text: string,
  options: Pick<InboundGateOptions, 'maxTextBytes'>,
): InboundRefusal | undefined {
  return text.length > options.maxTextBytes ? 'text-too-large' : undefined;
}

export class InboundGate {
  readonly #options: InboundGateOptions;

  constructor(options: InboundGateOptions) {
    this.#options = options;
  }

  /** Applies the rules to every message `conn` receives, until it closes. */
  watch(conn: EngineConnection): void {
    const { bytesPerSecond, burstBytes } = this.#options;
    let tokens = burstBytes;
    let at = performance.now();
    let resumeTimer: ReturnType<typeof setTimeout> | undefined;
    conn.once('close', () => clearTimeout(resumeTimer));
    conn.prependListener('data', (data) => {
      if (typeof data === 'string') {
        const refusal = textPacketRefusal(data, this.#options);
        if (refusal !== undefined) {
          this.#options.onRefused?.(refusal);
          conn.close();
          return;
        }
      }
      const now = performance.now();
      tokens = Math.min(burstBytes, tokens + ((now - at) / 1000) * bytesPerSecond);
      at = now;
      tokens -= data.length;
      if (tokens >= 0 || resumeTimer !== undefined) return;
      const socket = conn.transport.name === 'websocket' ? conn.transport.socket : undefined;
      if (socket === undefined) return;
      socket.pause();
      resumeTimer = setTimeout(
        () => {
          resumeTimer = undefined;
          socket.resume();
        },
        Math.ceil((-tokens / bytesPerSecond) * 1000),
      );
    });
  }
}
