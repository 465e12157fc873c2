// What `npm run audit -- capture` and the server's capture endpoint (POST /api/audit/captures) say
// to each other: the audit owns the wire format of the capture, and the server imports it
// (`@conclave/audit/capture-protocol`, in server/src/http/auditCapture.ts and
// server/src/media/RoomCapture.ts); the capture command (cli/captureCommand.ts) speaks it.
//
// What must hold: key-free like everything in audit/, and the stream events carry what the stream
// map (streamMap.ts) needs, so the map the command writes reads back with the verifier's schema.

/** The endpoint's path on the server's origin. */
export const AUDIT_CAPTURE_PATH = '/api/audit/captures';
/** The longest capture a request may ask for. */
export const MAX_CAPTURE_SECONDS = 300;

/** Request body: an audit token for `room`, the CLI's UDP port on 127.0.0.1, and how long. */
export interface CaptureRequest {
  token: string;
  room: string;
  port: number;
  seconds: number;
}

/** One RTP stream of the capture: the stream map's schema (streamMap.ts) plus ids. */
export interface CapturedStream {
  ssrc: number;
  payloadType: number;
  codec: string;
  kind: 'audio' | 'video';
  source?: string;
  participant?: string;
  peerId?: string;
  producerId: string;
  /** Index of the simulcast encoding (0 without simulcast). */
  layer: number;
}

/** Why a capture ended: its time ran out, the auditor stopped it, or the room closed. */
export type CaptureEnd = 'time-up' | 'stopped' | 'room-closed';

/**
 * The response body is newline-delimited JSON (application/x-ndjson), one event per line, sent as
 * things happen: a `stream` as soon as the server consumes it (so a capture stopped early still has
 * its map), then one `end`.
 */
export type CaptureEvent =
  | { type: 'stream'; stream: CapturedStream }
  | { type: 'end'; room: string; seconds: number; ended: CaptureEnd; streams: number };
