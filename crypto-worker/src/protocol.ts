// Main thread ↔ crypto worker protocol. Types first: one discriminated union per direction, and a
// run-time check of everything that arrives at the worker before a handler sees it.
//
// Requests (main → worker) carry an `id`; the worker answers each with exactly one `response`
// (ok, or an error with a name, message and — for SFrame failures — a typed reason).
//
//   configure          { suite }                        Cipher suite (RFC 9605 §4.5) for all keys; clears every key.
//   setSenderKey       { context, kid, baseKey }        Our stream `context` now sends under `kid` with `baseKey`
//                                                       (RFC 9605 §5.2 base_key). Requests a key frame.
//   clearSenderKey     { context }                      Stop sending `context` (frames are dropped, never sent clear).
//   addReceiverKey     { kid, baseKey, epoch?, owner? } Accept frames under `kid`. `epoch` (full MLS epoch) enables the
//                                                       §5.2 rollover rule; `owner` ties the KID to one participant's stream.
//   removeReceiverKeys { kids? , epochsBefore?, participantId? }  Drop keys selected by any of the given filters.
//   attachStreams      { options, readable, writable }  Legacy path (createEncodedStreams): the streams are transferred.
//   detach             { attachmentId }                 Stop a legacy-path transform.
//
// RTCRtpScriptTransform path: the main thread constructs `new RTCRtpScriptTransform(worker, options)`
// with `TransformOptions`; the worker answers with an `attached` event.
//
// Events (worker → main): `response`, `attached`, `status` (throttled per attachment), and
// `keyFrameRequest` (the sender's key changed and the worker could not request a key frame itself;
// the main thread calls `RTCRtpSender.generateKeyFrame?.()`), and `senderKeyInUse` (a sender's first
// frame under a new KID: when a key change has really taken effect).
//
// Keys travel as raw bytes in structured clones and are never logged; KIDs and epochs are bigint.
import { isSupportedCodec, type SupportedCodec } from './codecPrefix.ts';
import type { SFrameErrorReason } from './sframe/errors.ts';
import { type MediaSource, isMediaSource } from './sframe/mlsKid.ts';
import { type CipherSuiteId, isCipherSuiteId } from './sframe/suites.ts';
import type { StreamStatus } from './status.ts';

export interface TransformOptions {
  /** Chosen by the main thread; names the transform in status events. */
  attachmentId: string;
  kind: 'sender' | 'receiver';
  /** Sender: which of our streams. Receiver: which stream of `participantId` this is. */
  context: MediaSource;
  /** Receiver only: the participant expected to send this stream. */
  participantId?: string;
  /** Codec when the browser's frame metadata lacks `mimeType`. */
  codec?: SupportedCodec;
}

export interface ReceiverKeyOwner {
  participantId: string;
  context: MediaSource;
}

export type WorkerRequestBody =
  | { type: 'configure'; suite: CipherSuiteId }
  | { type: 'setSenderKey'; context: MediaSource; kid: bigint; baseKey: Uint8Array }
  | { type: 'clearSenderKey'; context: MediaSource }
  | { type: 'addReceiverKey'; kid: bigint; baseKey: Uint8Array; epoch?: bigint; owner?: ReceiverKeyOwner }
  | { type: 'removeReceiverKeys'; kids?: bigint[]; epochsBefore?: bigint; participantId?: string }
  | { type: 'attachStreams'; options: TransformOptions; readable: ReadableStream; writable: WritableStream }
  | { type: 'detach'; attachmentId: string };

export type WorkerRequest = WorkerRequestBody & { id: number };
export type WorkerRequestType = WorkerRequestBody['type'];

export interface WorkerErrorInfo {
  name: string;
  message: string;
  reason?: SFrameErrorReason;
}

export type WorkerEvent =
  | { type: 'response'; id: number; ok: true }
  | { type: 'response'; id: number; ok: false; error: WorkerErrorInfo }
  | { type: 'attached'; attachmentId: string; kind: 'sender' | 'receiver' }
  | ({ type: 'status'; kind: 'sender' | 'receiver' } & StreamStatus)
  | { type: 'keyFrameRequest'; attachmentId: string }
  /** A sender stream sealed its first frame under `kid` (a KID is public: it is on the wire). */
  | { type: 'senderKeyInUse'; attachmentId: string; kid: bigint };

// ---- run-time validation (the worker trusts nothing it is sent) ----

type Fields = Record<string, unknown>;

function fail(what: string): never {
  throw new TypeError(`invalid worker message: ${what}`);
}

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null;
}

function bigintField(m: Fields, key: string): bigint {
  const v = m[key];
  if (typeof v !== 'bigint' || v < 0n || v >= 1n << 64n) fail(`${key} must be a 64-bit unsigned bigint`);
  return v;
}

function optionalBigint(m: Fields, key: string): bigint | undefined {
  return m[key] === undefined ? undefined : bigintField(m, key);
}

function bytesField(m: Fields, key: string): Uint8Array {
  const v = m[key];
  if (v instanceof Uint8Array && v.length > 0) return v;
  if (v instanceof ArrayBuffer && v.byteLength > 0) return new Uint8Array(v);
  return fail(`${key} must be non-empty bytes`);
}

function stringField(m: Fields, key: string): string {
  const v = m[key];
  if (typeof v !== 'string' || v.length === 0 || v.length > 256) fail(`${key} must be a short string`);
  return v;
}

function contextField(m: Fields, key: string): MediaSource {
  const v = m[key];
  if (!isMediaSource(v)) fail(`${key} must be mic, camera or screen`);
  return v;
}

function ownerField(m: Fields): ReceiverKeyOwner | undefined {
  const v = m.owner;
  if (v === undefined) return undefined;
  if (!isObject(v)) fail('owner must be an object');
  return { participantId: stringField(v, 'participantId'), context: contextField(v, 'context') };
}

function kidsField(m: Fields): bigint[] | undefined {
  const v = m.kids;
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length > 4096) fail('kids must be an array');
  return v.map((kid: unknown) => bigintField({ kid }, 'kid'));
}

export function parseTransformOptions(value: unknown): TransformOptions {
  if (!isObject(value)) fail('transform options must be an object');
  const kind = value.kind;
  if (kind !== 'sender' && kind !== 'receiver') fail('kind must be sender or receiver');
  const options: TransformOptions = {
    attachmentId: stringField(value, 'attachmentId'),
    kind,
    context: contextField(value, 'context'),
  };
  if (value.participantId !== undefined) options.participantId = stringField(value, 'participantId');
  if (value.codec !== undefined) {
    if (!isSupportedCodec(value.codec)) fail('codec must be vp8, vp9, av1, h264 or opus');
    options.codec = value.codec;
  }
  return options;
}

function parseBody(m: Fields): WorkerRequestBody {
  switch (m.type) {
    case 'configure':
      if (!isCipherSuiteId(m.suite)) fail('suite must be 1-5');
      return { type: 'configure', suite: m.suite };
    case 'setSenderKey':
      return {
        type: 'setSenderKey',
        context: contextField(m, 'context'),
        kid: bigintField(m, 'kid'),
        baseKey: bytesField(m, 'baseKey'),
      };
    case 'clearSenderKey':
      return { type: 'clearSenderKey', context: contextField(m, 'context') };
    case 'addReceiverKey': {
      const body: WorkerRequestBody = {
        type: 'addReceiverKey',
        kid: bigintField(m, 'kid'),
        baseKey: bytesField(m, 'baseKey'),
      };
      const epoch = optionalBigint(m, 'epoch');
      const owner = ownerField(m);
      if (epoch !== undefined) body.epoch = epoch;
      if (owner !== undefined) body.owner = owner;
      return body;
    }
    case 'removeReceiverKeys': {
      const body: WorkerRequestBody = { type: 'removeReceiverKeys' };
      const kids = kidsField(m);
      const epochsBefore = optionalBigint(m, 'epochsBefore');
      if (kids !== undefined) body.kids = kids;
      if (epochsBefore !== undefined) body.epochsBefore = epochsBefore;
      if (m.participantId !== undefined) body.participantId = stringField(m, 'participantId');
      return body;
    }
    case 'attachStreams':
      if (!(m.readable instanceof ReadableStream) || !(m.writable instanceof WritableStream))
        fail('streams missing');
      return {
        type: 'attachStreams',
        options: parseTransformOptions(m.options),
        readable: m.readable,
        writable: m.writable,
      };
    case 'detach':
      return { type: 'detach', attachmentId: stringField(m, 'attachmentId') };
    default:
      return fail(`unknown type ${String(m.type)}`);
  }
}

/** Validates a message received by the worker. Throws TypeError (with the id when it could be read). */
export function parseRequest(value: unknown): WorkerRequest {
  if (!isObject(value)) fail('not an object');
  const id = value.id;
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) fail('id must be an integer');
  return { ...parseBody(value), id };
}
