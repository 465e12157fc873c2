// How one socket's requests reach the handlers (handlers.ts): each needs an acknowledgement, passes
// the socket's token bucket and its zod schema (protocol.ts) before any handler sees it, and waits
// in the room's queue when it changes the group (publish, commit, proposal, knock, deny). A lobby
// socket may only sync, knock and renew until its holder has entered the meeting.
//
// Must hold: every request is answered exactly once, with `{ ok: true, result }` or a WireError;
// an error that is not a KeyServiceError is logged and answered as 'internal' (toWireError), so
// nothing a client sends can crash the service or learn its internals.
import type { z } from 'zod';
import { TokenBucket } from '@conclave/common/rate-limit';
import { KeyServiceError, toWireError } from '../errors.ts';
import {
  parseErrorCode,
  requestSchemas,
  type Ack,
  type RequestName,
  type Requests,
  type WireError,
} from '../protocol.ts';
import type { ServiceContext } from './context.ts';
import type { RequestHandlers } from './handlers.ts';
import type { KeyRoom, KeySocket } from './room.ts';
import type { SessionExpiry } from './session-expiry.ts';
import { KeyServiceStats } from './stats.ts';

type Handler<N extends RequestName> = (
  room: KeyRoom,
  socket: KeySocket,
  args: z.output<ReturnType<typeof requestSchemas>[N]>,
) => Promise<Requests[N]['result']>;

/** Until it has a meeting connection, a lobby socket may only look, knock and renew. */
const LOBBY_ALLOWED = new Set<RequestName>(['sync', 'knock', 'renew']);

export interface RequestRouting {
  ctx: ServiceContext;
  schemas: ReturnType<typeof requestSchemas>;
  handlers: RequestHandlers;
  /** The socket's session lifetime, extended by `renew`. */
  expiry: SessionExpiry | undefined;
  /** Makes a lobby socket a full one once its holder has entered the meeting; throws if not yet. */
  leaveLobbyOnly: (socket: KeySocket) => Promise<void>;
}

/** Serves every request of `socket` (in room `roomId`) until it disconnects. */
export function routeRequests(socket: KeySocket, roomId: string, routing: RequestRouting): void {
  const { ctx, schemas, handlers: h, expiry } = routing;
  const bucket = new TokenBucket(ctx.limits.ratePerSecond, ctx.limits.rateBurst);
  const handlers: { [N in RequestName]: Handler<N> } = {
    sync: async (r, s) => h.sync(r, s),
    publish: (r, s, a) => r.serialized(() => h.publish(r, s, a)),
    commit: (r, s, a) => r.serialized(() => h.commit(r, s, a)),
    proposal: (r, s, a) => r.serialized(() => h.proposal(r, s, a)),
    app: async (r, s, a) => h.app(r, s, a),
    welcome: async (r, s, a) => h.welcome(r, s, a),
    renew: async (_r, s, a) => h.renew(s, a, expiry),
    knock: (r, s, a) => r.serialized(() => h.knock(r, s, a)),
    deny: (r, s, a) => r.serialized(() => h.deny(r, s, a)),
    // Not in the room's queue: it waits for other joiners' commits, which go through that queue.
    turn: async (r, s) => h.turn(r, s),
  };
  for (const name of Object.keys(handlers) as RequestName[]) {
    socket.on(name as never, (payload: unknown, ack: unknown) => {
      if (typeof ack !== 'function') {
        ctx.logger.debug({ room: roomId, event: name }, 'request without acknowledgement dropped');
        return;
      }
      const reply = ack as (a: Ack<unknown>) => void;
      const reject = (error: WireError) => {
        KeyServiceStats.count(ctx.stats.requestRejections, error.code);
        if (name === 'commit') KeyServiceStats.count(ctx.stats.commitRejections, error.code);
        reply({ ok: false, error });
      };
      const current = ctx.rooms.get(roomId);
      if (ctx.closed() || current === undefined) {
        reply({ ok: false, error: { code: 'invalid-state', message: 'the key service is closing' } });
        return;
      }
      if (!bucket.take()) {
        reject({ code: 'rate-limited', message: 'too many requests; slow down' });
        return;
      }
      const parsed = schemas[name].safeParse(payload);
      if (!parsed.success) {
        reject({
          code: parseErrorCode(parsed.error.issues),
          message: `invalid ${name}: ${parsed.error.issues[0]?.message ?? 'malformed'}`,
        });
        return;
      }
      const ready =
        socket.data.lobbyOnly && !LOBBY_ALLOWED.has(name)
          ? routing.leaveLobbyOnly(socket)
          : Promise.resolve();
      ready
        .then(() => (handlers[name] as Handler<RequestName>)(current, socket, parsed.data as never))
        .then(
          (result) => reply({ ok: true, result }),
          (error: unknown) => {
            if (!(error instanceof KeyServiceError)) {
              ctx.logger.error(
                { room: roomId, event: name, err: String(error) },
                'key service handler failed',
              );
            } else {
              ctx.logger.debug(
                { room: roomId, event: name, code: error.code },
                'key service request rejected',
              );
            }
            reject(toWireError(error));
          },
        );
    });
  }
}
