// The key client's transport: one socket.io connection to the key service ('/keys'), its
// reconnections, requests with acknowledgements, and the validation of every event and every
// acknowledgement the key service sends (the threat model says the server may be hostile).
//
// Must hold: nothing the server sends reaches the client's logic unless it matched its schema
// (protocol.ts); a request fails with a KeyServiceError, never hangs past its timeout; after the first
// connection the socket keeps coming back (with a fresh token each time) until `close()`.
import { io, type Socket } from 'socket.io-client';
import { KeyServiceError } from '../errors.ts';
import {
  ackSchema,
  eventSchemas,
  type EventName,
  type Events,
  type KeyServiceLimits,
  type RequestName,
  type Requests,
} from '../protocol.ts';
import type { ClientLogger, KeyClientOptions } from './types.ts';

/** How long one connection attempt to the key service may take before the next one starts. */
const KEY_SOCKET_CONNECT_TIMEOUT_MS = 4_000;
/** How soon to come back after the server dropped this socket (see the 'disconnect' handler). */
const SERVER_DISCONNECT_RECONNECT_MS = 1_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** One validated event from the key service. */
export type InboundEvent = { [N in EventName]: { name: N; data: Events[N] } }[EventName];

export interface ConnectionHandlers {
  /** Every valid event, in arrival order. */
  event(event: InboundEvent): void;
  /** After every (re)connection: catch up with the group. The first one's outcome is `open()`'s. */
  connected(): Promise<void>;
  /** A catch-up after a reconnection failed (nobody awaits it). */
  catchUpFailed(error: unknown): void;
  /** The connection did something by itself the owner should hear of. */
  warning(message: string): void;
}

type ConnectionOptions = Pick<KeyClientOptions, 'url' | 'token' | 'requestTimeoutMs' | 'socketOptions'>;

export class KeyServiceConnection {
  readonly #options: ConnectionOptions;
  readonly #events: ReturnType<typeof eventSchemas>;
  readonly #logger: ClientLogger | undefined;
  #socket: Socket | undefined;
  #everConnected = false;
  #closed = false;

  constructor(options: ConnectionOptions, limits: KeyServiceLimits, logger: ClientLogger | undefined) {
    this.#options = options;
    this.#events = eventSchemas(limits);
    this.#logger = logger;
  }

  get started(): boolean {
    return this.#socket !== undefined;
  }

  get connected(): boolean {
    return this.#socket?.connected === true;
  }

  /** This connection's socket id (it changes with each reconnection). */
  get id(): string | undefined {
    return this.#socket?.id;
  }

  /**
   * Connects and resolves once the first `handlers.connected()` did.
   *
   * @throws {KeyServiceError} 'unauthorized' when the key service refused the first handshake
   */
  open(handlers: ConnectionHandlers): Promise<void> {
    const socket = io(this.#options.url, {
      transports: ['websocket'],
      // Its own connection: socket.io would otherwise share one with any other namespace of the same
      // server (the meeting's signaling), and inherit that one's reconnection settings and fate.
      forceNew: true,
      // A connection attempt into a network that is not back yet can hang rather than fail; socket.io
      // waits 20 s by default before it tries again, long after the meeting itself has rejoined.
      timeout: KEY_SOCKET_CONNECT_TIMEOUT_MS,
      ...this.#options.socketOptions,
      auth: (cb) => {
        // Always as one who may have to wait in the lobby: a member whose leaf was removed while it
        // was cut off knocks again, before the meeting lets it in. With a meeting connection (or once
        // one enters) the key service treats the socket as a member's.
        const lobby = true;
        void Promise.resolve(this.#options.token()).then(
          (token) => cb({ token, lobby }),
          () => cb({ lobby }),
        );
      },
    });
    this.#socket = socket;
    for (const name of Object.keys(this.#events) as EventName[]) {
      socket.on(name, (payload: unknown) => this.#onEvent(name, payload, handlers));
    }
    const first = new Promise<void>((resolve, reject) => {
      socket.once('connect_error', (err: Error & { data?: { code?: string; message?: string } }) => {
        if (!socket.active) {
          reject(new KeyServiceError('unauthorized', err.data?.message ?? err.message));
        }
      });
      let connected = false;
      socket.on('connect', () => {
        // First connection and every reconnection (e.g. after a key-service restart): catch up.
        const sync = handlers.connected();
        sync.then(resolve, reject);
        // After the first, nobody awaits the catch-up: say so when it fails, the owner starts afresh.
        if (connected) sync.catch((e: unknown) => handlers.catchUpFailed(e));
        connected = true;
      });
    });
    this.#keepComingBack(socket, handlers);
    return first;
  }

  #keepComingBack(socket: Socket, handlers: ConnectionHandlers): void {
    // socket.io gives up after the server refuses a handshake. After the first connection that is
    // a transient refusal (this user's meeting connection is not back yet: 'not-in-meeting'), so
    // keep coming back, each time with a fresh token.
    socket.on('connect_error', () => {
      if (!this.#everConnected || this.#closed || socket.active) return;
      setTimeout(() => {
        if (!this.#closed && !socket.connected && !socket.active) socket.connect();
      }, SERVER_DISCONNECT_RECONNECT_MS);
    });
    socket.on('connect', () => (this.#everConnected = true));
    socket.on('disconnect', (reason) => {
      // socket.io reconnects by itself after a lost connection, but not after the server closed the
      // socket. The server does that when signaling reports this user gone (their meeting connection
      // dropped, or the room's media server died); if this client is still here, its meeting rejoins,
      // and so must its membership: come back and catch up with the group.
      if (reason !== 'io server disconnect' || this.#closed) return;
      handlers.warning('the key service closed the connection; reconnecting');
      setTimeout(() => {
        if (!this.#closed && !socket.connected) socket.connect();
      }, SERVER_DISCONNECT_RECONNECT_MS);
    });
  }

  #onEvent(name: EventName, payload: unknown, handlers: ConnectionHandlers): void {
    if (this.#closed) return;
    const parsed = this.#events[name].safeParse(payload);
    if (!parsed.success) {
      this.#logger?.warn({ event: name }, 'malformed event from the key service dropped');
      return;
    }
    handlers.event({ name, data: parsed.data } as InboundEvent);
  }

  /**
   * Sends a request and waits for its acknowledgement.
   *
   * @param timeoutMs how long to wait for the answer (default: the client's request timeout)
   * @returns the acknowledgement's result (the caller validates its shape)
   * @throws {KeyServiceError} the key service's refusal (its code, message and epoch), or 'internal'
   *   when no valid answer came in time, or 'invalid-state' when the connection is closed
   */
  async request<N extends RequestName>(
    name: N,
    args: Requests[N]['args'],
    timeoutMs?: number,
  ): Promise<unknown> {
    const socket = this.#socket;
    if (socket === undefined || this.#closed)
      throw new KeyServiceError('invalid-state', 'the client is closed');
    let answer: unknown;
    try {
      answer = await socket
        .timeout(timeoutMs ?? this.#options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS)
        .emitWithAck(name, args);
    } catch {
      throw new KeyServiceError('internal', `${name}: no answer from the key service`);
    }
    const ack = ackSchema.safeParse(answer);
    if (!ack.success) throw new KeyServiceError('internal', 'malformed acknowledgement');
    if (ack.data.ok) return ack.data.result;
    const { code, message, epoch } = ack.data.error;
    throw new KeyServiceError(code, message, epoch);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket?.removeAllListeners();
    this.#socket?.disconnect();
  }
}
