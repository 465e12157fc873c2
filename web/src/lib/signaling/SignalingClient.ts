// The client half of the signaling protocol (server/src/signaling/protocol.ts): typed requests with
// a timeout, notifications, and a session token read afresh on every (re)connection.
//
// The threat model counts the server as possibly hostile, so nothing it sends is used unparsed (as
// KeyClient does for the key service's events): every ack is parsed against its method's response
// schema (a malformed one fails its request with 'malformed-response'), and every notification and
// fatal error against the protocol's schemas. A malformed notification is dropped with a console
// warning and changes nothing.
import { ReasonedError } from '@conclave/common/errors';
import {
  FATAL_EVENT,
  NOTIFICATION_EVENT,
  REQUEST_EVENT,
  parseAck,
  parseNotification,
  parseWireError,
  type ErrorCode,
  type Notification,
  type RequestData,
  type RequestMethod,
  type ResponseMap,
} from '@conclave/server/protocol';
import { io, type Socket } from 'socket.io-client';

const REQUEST_TIMEOUT_MS = 10_000;

/** The server's own codes, and the ones this end gives a connection or an answer that failed. */
export type SignalingErrorCode =
  | ErrorCode
  /** The server cannot be reached (the handshake failed without the server's reason). */
  | 'unreachable'
  /** A request was made while the socket was not connected. */
  | 'disconnected'
  /** The server did not answer a request in time. */
  | 'timeout'
  /** The server answered with something that is neither the method's result nor an error. */
  | 'malformed-response';

/** A signaling failure as the meeting sees it: a code to switch on, and a sentence for people. */
export interface SignalingFailure {
  code: SignalingErrorCode;
  message: string;
}

/** A request that failed: refused by the server (its code), or lost on the way (ours). */
export class RequestError extends ReasonedError<SignalingErrorCode> {
  override readonly name = 'RequestError';
}

export interface SignalingHandlers {
  /** A notification that passed the protocol's schema; malformed ones never get here. */
  onNotification(notification: Notification): void;
  onDisconnect(reason: string): void;
  onConnect(): void;
  /** The server closed the connection for good, or refused the handshake. */
  onFatal(error: SignalingFailure): void;
}

const UNREACHABLE: SignalingFailure = { code: 'unreachable', message: 'Cannot reach the Conclave server.' };

export class SignalingClient {
  readonly #socket: Socket;

  /**
   * @param getToken - the session token, read afresh at each handshake.
   * @param url - the signaling namespace; this page's server unless told otherwise (tests).
   */
  constructor(getToken: () => string, handlers: SignalingHandlers, url = '/signaling') {
    this.#socket = io(url, {
      transports: ['websocket'],
      auth: (cb) => cb({ token: getToken() }),
      reconnection: false,
    });
    this.#socket.on(NOTIFICATION_EVENT, (raw: unknown) => {
      const parsed = parseNotification(raw);
      if (parsed.success) handlers.onNotification(parsed.notification);
      else console.warn(`dropped a malformed signaling notification: ${parsed.message}`);
    });
    this.#socket.on(FATAL_EVENT, (raw: unknown) => {
      // The server ends the connection after a fatal event either way; a malformed one says nothing more.
      const error = parseWireError(raw);
      if (error === undefined) console.warn('dropped a malformed fatal signaling event');
      else handlers.onFatal(error);
    });
    this.#socket.on('connect', () => handlers.onConnect());
    this.#socket.on('disconnect', (reason) => handlers.onDisconnect(reason));
    this.#socket.on('connect_error', (error: Error & { data?: unknown }) => {
      handlers.onFatal(parseWireError(error.data) ?? UNREACHABLE);
    });
  }

  /**
   * Sends one request and waits for its answer.
   * @throws RequestError with the server's code when it refuses, or 'disconnected', 'timeout' or
   *   'malformed-response'.
   */
  async request<M extends RequestMethod>(method: M, data: RequestData<M>): Promise<ResponseMap[M]> {
    // socket.io would hold the request until a reconnection that never comes (reconnection is the
    // meeting's job): fail now instead. Requests in flight fail when the connection drops.
    if (!this.#socket.connected) {
      throw new RequestError('disconnected', `not connected (${method})`);
    }
    const raw: unknown = await this.#socket
      .timeout(REQUEST_TIMEOUT_MS)
      .emitWithAck(REQUEST_EVENT, { method, data })
      .catch(() => {
        throw new RequestError('timeout', `the server did not answer ${method}`);
      });
    const ack = parseAck(method, raw);
    if (ack === undefined) {
      throw new RequestError('malformed-response', `the server's answer to ${method} is malformed`);
    }
    if (!ack.ok) throw new RequestError(ack.error.code, ack.error.message);
    return ack.result;
  }

  close(): void {
    this.#socket.disconnect();
  }
}
