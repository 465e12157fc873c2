// What travels inside an MLS application message: a small typed envelope, so that more than chat
// can be sent end-to-end encrypted (the key service relays the ciphertext and learns neither the
// kind nor the content). Encoded as UTF-8 JSON; on receipt it is validated strictly (known type,
// exact fields, nothing else) and anything else is dropped without effect.
//
// Who sent it is never part of the envelope: the receiver takes it from the MLS-authenticated
// sender leaf. Sizes do not tell the kinds apart either: MLS pads every application message's
// plaintext to at least 256 bytes (ts-mls's default padding), so a hand and a short line look alike.
import { z } from 'zod';

export type AppMessage =
  | { type: 'chat'; text: string }
  /** The sender's hand is now raised (or lowered); re-sent after each epoch change while raised. */
  | { type: 'hand'; raised: boolean };

const appMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('chat'), text: z.string() }).strict(),
  z.object({ type: z.literal('hand'), raised: z.boolean() }).strict(),
]);

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * The UTF-8 JSON envelope of `message`, with exactly its known fields.
 *
 * @example
 * ```ts
 * decodeAppMessage(encodeAppMessage({ type: 'hand', raised: true })); // { type: 'hand', raised: true }
 * ```
 */
export function encodeAppMessage(message: AppMessage): Uint8Array {
  // Re-built field by field: an object with extra properties must not leak them onto the wire.
  const exact: AppMessage =
    message.type === 'chat' ? { type: 'chat', text: message.text } : { type: 'hand', raised: message.raised };
  return encoder.encode(JSON.stringify(exact));
}

/** The envelope in `bytes`, or undefined when they are not exactly one valid envelope. */
export function decodeAppMessage(bytes: Uint8Array): AppMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch {
    return undefined;
  }
  const parsed = appMessageSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}
