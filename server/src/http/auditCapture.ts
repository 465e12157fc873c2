// POST /api/audit/captures: the server side of `npm run audit -- capture`.
//
// Body (JSON): { token, room, port, seconds }. `token` is an audit token for `room`
// (server/src/auth/auditTokens.ts), which only the holder of the server's token secret can mint.
// The server sends what it forwards in that room to UDP 127.0.0.1:`port` for `seconds`
// (server/src/media/RoomCapture.ts): always loopback, so the endpoint cannot be used to point
// media at another host. The response's headers go out once the capture has started; its body is
// newline-delimited JSON: each stream as it is consumed, then the end (captureProtocol.ts). A
// client that disconnects stops its capture. Every refusal is { code, message } with a 4xx status, and
// changes nothing.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import {
  AUDIT_CAPTURE_PATH,
  MAX_CAPTURE_SECONDS,
  type CaptureEvent,
  type CapturedStream,
} from '@conclave/audit/capture-protocol';
import type { AuditTokenAuthority } from '../auth/auditTokens.ts';
import { ROOM_ID_PATTERN } from '../auth/tokens.ts';
import { ConclaveError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { RoomCapture } from '../media/RoomCapture.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import { readJson, sendJson } from './api.ts';

/** Captures at once, server-wide: each adds a consumer per producer in its room. */
export const MAX_CONCURRENT_CAPTURES = 4;

const captureBody = z
  .object({
    token: z.string().min(1).max(4096),
    room: z.string().regex(ROOM_ID_PATTERN, 'a room id has 3 to 64 lowercase letters, digits and dashes'),
    port: z.number().int().min(1).max(65535),
    seconds: z.number().int().min(1).max(MAX_CAPTURE_SECONDS),
  })
  .strict();

export interface AuditCaptureOptions {
  auditTokens: AuditTokenAuthority;
  rooms: RoomRegistry;
  logger: Logger;
}

export class AuditCaptureEndpoint {
  readonly #options: AuditCaptureOptions;
  /** Captures running or starting: a slot is taken before the first await, so two requests cannot both pass the cap. */
  #slots = 0;

  constructor(options: AuditCaptureOptions) {
    this.#options = options;
  }

  /** Answers the capture route; returns false for any other path. */
  async handle(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean> {
    if (pathname !== AUDIT_CAPTURE_PATH) return false;
    let capture: RoomCapture;
    let seconds: number;
    try {
      if (req.method !== 'POST')
        throw new ConclaveError('not-found', `no route ${req.method} ${pathname}`, 404);
      const body = captureBody.safeParse(await readJson(req));
      if (!body.success) {
        const issue = body.error.issues[0];
        throw new ConclaveError(
          'bad-request',
          `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`,
        );
      }
      ({ seconds } = body.data);
      capture = await this.#start(body.data);
    } catch (error) {
      const wire =
        error instanceof ConclaveError ? error : new ConclaveError('internal', 'internal server error', 500);
      if (error instanceof ConclaveError) {
        // Who tried to capture what, and why not: an operator wants to know. Never the token.
        this.#options.logger.warn({ code: error.code, status: error.status }, 'audit capture refused');
      } else {
        this.#options.logger.error({ err: (error as Error).message }, 'audit capture failed to start');
      }
      sendJson(res, wire.status, { code: wire.code, message: wire.message });
      return true;
    }
    // The client gone (Ctrl-C, network): stop at once rather than send to a closed port.
    res.once('close', () => capture.stop('stopped'));
    if (req.socket.destroyed) capture.stop('stopped');
    res.writeHead(200, { 'Content-Type': 'application/x-ndjson', 'Cache-Control': 'no-store' });
    // The status goes out now: it tells the client the capture runs, before any stream exists.
    res.flushHeaders();
    const send = (event: CaptureEvent) => {
      if (!res.destroyed) res.write(`${JSON.stringify(event)}\n`);
    };
    for (const stream of capture.streams) send({ type: 'stream', stream });
    const onStream = (stream: CapturedStream) => send({ type: 'stream', stream });
    capture.on('stream', onStream);
    const ended = await capture.ended;
    capture.off('stream', onStream);
    send({ type: 'end', room: capture.room.id, seconds, ended, streams: capture.streams.length });
    res.end();
    return true;
  }

  async #start(body: z.infer<typeof captureBody>): Promise<RoomCapture> {
    const { auditTokens, rooms, logger } = this.#options;
    await auditTokens.verify(body.token, body.room);
    if (this.#slots >= MAX_CONCURRENT_CAPTURES) {
      throw new ConclaveError(
        'rate-limited',
        `${MAX_CONCURRENT_CAPTURES} captures are running; try again when one ends`,
        429,
      );
    }
    const room = rooms.rooms.get(body.room);
    if (room === undefined || room.closed) {
      throw new ConclaveError('not-found', `no meeting is running in room ${body.room}`, 404);
    }
    this.#slots++;
    let capture: RoomCapture;
    try {
      capture = await RoomCapture.start(room, { port: body.port, seconds: body.seconds, logger });
    } catch (error) {
      this.#slots--;
      // The room closed (everyone left) while the capture was being set up.
      if (room.closed)
        throw new ConclaveError('not-found', `no meeting is running in room ${body.room}`, 404);
      throw error;
    }
    void capture.ended.then(() => this.#slots--);
    logger.info({ room: body.room, seconds: body.seconds, port: body.port }, 'audit capture started');
    return capture;
  }
}
