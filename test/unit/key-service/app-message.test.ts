// The envelope inside MLS application messages: chat and hand round-trip, anything else is dropped.
import { describe, expect, it } from 'vitest';
import { decodeAppMessage, encodeAppMessage } from '@conclave/key-service/client';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('application message envelope', () => {
  it('round-trips chat lines and hand changes', () => {
    for (const message of [
      { type: 'chat', text: 'héllo 👋 "quoted" \u0000' },
      { type: 'chat', text: '' },
      { type: 'hand', raised: true },
      { type: 'hand', raised: false },
    ] as const) {
      expect(decodeAppMessage(encodeAppMessage(message))).toEqual(message);
    }
  });

  it('writes only the fields of its type', () => {
    const sneaky = { type: 'hand', raised: true, from: 'mallory-01' } as unknown as Parameters<
      typeof encodeAppMessage
    >[0];
    expect(new TextDecoder().decode(encodeAppMessage(sneaky))).toBe('{"type":"hand","raised":true}');
  });

  it('drops unknown types, missing, mistyped and extra fields', () => {
    for (const json of [
      '{"type":"poll","text":"x"}',
      '{"type":"hand"}',
      '{"type":"hand","raised":"yes"}',
      '{"type":"hand","raised":1}',
      '{"type":"chat","text":42}',
      '{"type":"chat"}',
      '{"type":"hand","raised":true,"from":"bob-0001"}',
      '{"text":"no type"}',
      '["chat","x"]',
      'null',
      '"chat"',
      '{"type":"chat","text":"x"} trailing',
    ]) {
      expect(decodeAppMessage(bytes(json)), json).toBeUndefined();
    }
  });

  it('drops what is not UTF-8 JSON (e.g. a plain text line of an older client)', () => {
    expect(decodeAppMessage(bytes('hello'))).toBeUndefined();
    expect(decodeAppMessage(new Uint8Array())).toBeUndefined();
    expect(decodeAppMessage(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))).toBeUndefined();
  });
});
