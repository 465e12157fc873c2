// Which codec each RTP stream of a capture carries: the verifier cannot tell VP8 from Opus from the
// packets alone (payload types are negotiated, RFC 3264), so it is told, either per stream by a map
// file (what `npm run audit -- capture` writes beside its pcap) or per payload type (`--pt 96=vp8`).
//
// Map file: a JSON array, one entry per stream (SSRC):
//
//   [{ "ssrc": 1111, "payloadType": 96, "codec": "vp8", "kind": "video", "source": "camera",
//      "participant": "alice" }, …]
//
// `codec` is a codec name or MIME type, case-insensitive ("VP8", "video/VP8"); vp8, vp9, h264 and
// opus are verified, any other codec is reported as unverifiable. Unknown keys are ignored.
import { ReasonedError } from '@conclave/common/errors';
import { MEDIA_SOURCES } from '@conclave/crypto-worker/sframe/wire';
import { z } from 'zod';

/** The codecs whose frames the audit reassembles and inspects. */
export const VERIFIABLE_CODECS = ['vp8', 'vp9', 'h264', 'opus'] as const;
/** A codec whose frames the audit reassembles and inspects. */
export type VerifiableCodec = (typeof VERIFIABLE_CODECS)[number];

/** Whether `codec` (a normalized name) is one the audit can verify. */
export function isVerifiableCodec(codec: string): codec is VerifiableCodec {
  return (VERIFIABLE_CODECS as readonly string[]).includes(codec);
}

/** "video/VP8" → "vp8", "OPUS" → "opus". */
export function normalizeCodecName(name: string): string {
  return (name.split('/').pop() ?? '').trim().toLowerCase();
}

const KIND_OF: Record<VerifiableCodec, 'audio' | 'video'> = {
  vp8: 'video',
  vp9: 'video',
  h264: 'video',
  opus: 'audio',
};

/** One stream of a map file: SSRC, payload type, codec, kind, and optionally source and participant. */
export const streamMapEntrySchema = z.object({
  ssrc: z.number().int().min(0).max(0xffff_ffff),
  payloadType: z.number().int().min(0).max(127),
  codec: z.string().min(1).transform(normalizeCodecName).pipe(z.string().min(1)),
  kind: z.enum(['audio', 'video']),
  source: z.enum(MEDIA_SOURCES).optional(),
  participant: z.string().optional(),
});

/** One stream of a map file, as parsed (codec name normalized). */
export type StreamMapEntry = z.infer<typeof streamMapEntrySchema>;

/** A map file: its entries, each SSRC once, each verifiable codec of the right kind and source. */
export const streamMapSchema = z.array(streamMapEntrySchema).superRefine((entries, ctx) => {
  const seen = new Set<number>();
  entries.forEach((entry, i) => {
    if (seen.has(entry.ssrc)) {
      ctx.addIssue({ code: 'custom', path: [i, 'ssrc'], message: `SSRC ${entry.ssrc} is listed twice` });
    }
    seen.add(entry.ssrc);
    if (isVerifiableCodec(entry.codec) && KIND_OF[entry.codec] !== entry.kind) {
      ctx.addIssue({
        code: 'custom',
        path: [i, 'kind'],
        message: `${entry.codec} is ${KIND_OF[entry.codec]}`,
      });
    }
    if (entry.source !== undefined && (entry.source === 'mic') !== (entry.kind === 'audio')) {
      ctx.addIssue({
        code: 'custom',
        path: [i, 'source'],
        message: `${entry.kind === 'audio' ? 'an audio' : 'a video'} stream cannot be ${entry.source}`,
      });
    }
  });
});

/** Why a stream map (a map file, or `--pt`) was refused. */
export type StreamMapErrorCode =
  /** The map file is not JSON. */
  | 'map-not-json'
  /** The map file is JSON but not a valid map (the message names the first problem and its path). */
  | 'map-invalid'
  /** A `--pt` part that is not `<payload type 0-127>=<codec>`. */
  | 'pt-malformed'
  /** A payload type named twice in `--pt`. */
  | 'pt-repeated';

/** A stream map or `--pt` spec that cannot be used; the message names the first problem. */
export class StreamMapError extends ReasonedError<StreamMapErrorCode> {
  override readonly name = 'StreamMapError';
}

/**
 * Parses a map file's text. Throws StreamMapError naming the first problem.
 * @param text the file's contents: a JSON array of streams
 * @returns the entries, codec names normalized ("video/VP8" → "vp8")
 * @throws StreamMapError ('map-not-json', 'map-invalid': the message names the entry and field)
 * @example parseStreamMap('[{"ssrc":1,"payloadType":96,"codec":"VP8","kind":"video"}]')
 */
export function parseStreamMap(text: string): StreamMapEntry[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new StreamMapError('map-not-json', `not JSON: ${(error as Error).message}`);
  }
  const result = streamMapSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = (issue?.path ?? [])
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
      .join('');
    const where = path === '' ? '' : `${path}: `;
    throw new StreamMapError('map-invalid', `${where}${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}

/**
 * Parses `--pt 96=VP8,111=opus` into payload type → codec. Throws StreamMapError.
 * @param spec comma-separated `<payload type 0-127>=<codec>` parts
 * @returns payload type → normalized codec name
 * @throws StreamMapError ('pt-malformed', 'pt-repeated')
 * @example parsePayloadTypeMap('96=vp8,111=opus').get(111) // 'opus'
 */
export function parsePayloadTypeMap(spec: string): Map<number, string> {
  const map = new Map<number, string>();
  for (const part of spec.split(',')) {
    const match = /^\s*(\d{1,3})\s*=\s*([A-Za-z0-9/._-]+)\s*$/.exec(part);
    const payloadType = Number(match?.[1]);
    const codec = normalizeCodecName(match?.[2] ?? '');
    if (match === null || payloadType > 127 || codec === '') {
      throw new StreamMapError(
        'pt-malformed',
        `--pt takes <payload type 0-127>=<codec>[,…], e.g. 96=vp8,111=opus; not ${JSON.stringify(part)}`,
      );
    }
    if (map.has(payloadType))
      throw new StreamMapError('pt-repeated', `--pt names payload type ${payloadType} twice`);
    map.set(payloadType, codec);
  }
  return map;
}
