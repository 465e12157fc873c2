// The client half of the signaling protocol (server/src/signaling/protocol.ts): typed requests with
// a timeout, notifications, and a session token read afresh on every (re)connection.
import type {
  Ack,
  Notification,
  RequestData,
  RequestMethod,
  ResponseMap,
  WireError,
} from '@conclave/server/protocol';
import { io, type Socket } from 'socket.io-client';

const REQUEST_TIMEOUT_MS = 10_000;

export class RequestError extends Error {
  readonly code: string;
  constructor(error: WireError) {
    super(error.message);
    this.name = 'RequestError';
    this.code = error.code;
  }
}

export interface SignalingHandlers {
  onNotification(notification: Notification): void;
  onDisconnect(reason: string): void;
  onConnect(): void;
  onFatal(error: WireError): void;
}

export class SignalingClient {
  readonly #socket: Socket;

  constructor(getToken: () => string, handlers: SignalingHandlers) {
    this.#socket = io('/signaling', {
      transports: ['websocket'],
      auth: (cb) => cb({ token: getToken() }),
      reconnection: false,
    });
    this.#socket.on('notification', (n: Notification) => handlers.onNotification(n));
    this.#socket.on('fatal', (e: WireError) => handlers.onFatal(e));
    this.#socket.on('connect', () => handlers.onConnect());
    this.#socket.on('disconnect', (reason) => handlers.onDisconnect(reason));
    this.#socket.on('connect_error', (error: Error & { data?: WireError }) => {
      handlers.onFatal(error.data ?? { code: 'unreachable', message: 'Cannot reach the Conclave server.' });
    });
  }

  async request<M extends RequestMethod>(method: M, data: RequestData<M>): Promise<ResponseMap[M]> {
    // socket.io would hold the request until a reconnection that never comes (reconnection is the
    // meeting's job): fail now instead. Requests in flight fail when the connection drops.
    if (!this.#socket.connected) {
      throw new RequestError({ code: 'disconnected', message: `not connected (${method})` });
    }
    const ack = (await this.#socket
      .timeout(REQUEST_TIMEOUT_MS)
      .emitWithAck('request', { method, data })
      .catch(() => {
        throw new RequestError({ code: 'timeout', message: `the server did not answer ${method}` });
      })) as Ack<M>;
    if (!ack.ok) throw new RequestError(ack.error);
    return ack.result;
  }

  close(): void {
    this.#socket.disconnect();
  }
}
