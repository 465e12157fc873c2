// The verifier's stream map file and `--pt` flag (audit/src/streamMap.ts): codec names are
// normalised, and every malformed map is refused with a message naming the entry and field.
import { describe, expect, it } from 'vitest';
import {
  StreamMapError,
  normalizeCodecName,
  parsePayloadTypeMap,
  parseStreamMap,
} from '../../../audit/src/streamMap.ts';

describe('parseStreamMap', () => {
  it('reads entries, normalises codec names and ignores unknown keys', () => {
    const text = JSON.stringify([
      {
        ssrc: 4369,
        payloadType: 96,
        codec: 'video/VP8',
        kind: 'video',
        source: 'camera',
        participant: 'alice',
        producerId: 'p1',
      },
      { ssrc: 8738, payloadType: 111, codec: 'OPUS', kind: 'audio', source: 'mic' },
      { ssrc: 0xffffffff, payloadType: 98, codec: 'VP9', kind: 'video' },
    ]);
    expect(parseStreamMap(text)).toEqual([
      { ssrc: 4369, payloadType: 96, codec: 'vp8', kind: 'video', source: 'camera', participant: 'alice' },
      { ssrc: 8738, payloadType: 111, codec: 'opus', kind: 'audio', source: 'mic' },
      { ssrc: 0xffffffff, payloadType: 98, codec: 'vp9', kind: 'video' },
    ]);
    expect(parseStreamMap('[]')).toEqual([]);
  });

  it.each([
    ['{', /^not JSON/],
    ['{"ssrc": 1}', /expected array/],
    ['[{"ssrc": 1, "payloadType": 96, "codec": "vp8"}]', /^\[0\]\.kind: /],
    ['[{"ssrc": -1, "payloadType": 96, "codec": "vp8", "kind": "video"}]', /^\[0\]\.ssrc: /],
    ['[{"ssrc": 4294967296, "payloadType": 96, "codec": "vp8", "kind": "video"}]', /^\[0\]\.ssrc: /],
    ['[{"ssrc": 1, "payloadType": 128, "codec": "vp8", "kind": "video"}]', /^\[0\]\.payloadType: /],
    ['[{"ssrc": 1, "payloadType": 96, "codec": "video/", "kind": "video"}]', /^\[0\]\.codec: /],
    ['[{"ssrc": 1, "payloadType": 96, "codec": "vp8", "kind": "audio"}]', /^\[0\]\.kind: vp8 is video$/],
    [
      '[{"ssrc": 1, "payloadType": 111, "codec": "opus", "kind": "audio", "source": "camera"}]',
      /an audio stream cannot be camera/,
    ],
    [
      '[{"ssrc": 1, "payloadType": 96, "codec": "vp8", "kind": "video"}, {"ssrc": 1, "payloadType": 111, "codec": "opus", "kind": "audio"}]',
      /^\[1\]\.ssrc: SSRC 1 is listed twice$/,
    ],
  ])('refuses %s', (text, message) => {
    expect(() => parseStreamMap(text)).toThrow(StreamMapError);
    expect(() => parseStreamMap(text)).toThrow(message);
    let json = true;
    try {
      JSON.parse(text);
    } catch {
      json = false;
    }
    const code = json ? 'map-invalid' : 'map-not-json';
    expect(() => parseStreamMap(text)).toThrow(expect.objectContaining({ code }));
  });

  it('refuses text that is not JSON with its own code', () => {
    expect(() => parseStreamMap('[{')).toThrow(
      expect.objectContaining({
        name: 'StreamMapError',
        code: 'map-not-json',
        message: expect.stringMatching(/^not JSON: /),
      }),
    );
  });
});

describe('parsePayloadTypeMap', () => {
  it('reads payload type = codec pairs', () => {
    expect(parsePayloadTypeMap('96=VP8,111=opus, 98 = video/VP9')).toEqual(
      new Map([
        [96, 'vp8'],
        [111, 'opus'],
        [98, 'vp9'],
      ]),
    );
  });

  it.each(['', '96', '96=', 'x=vp8', '128=vp8', '96=vp8;111=opus'])('refuses %j', (spec) => {
    expect(() => parsePayloadTypeMap(spec)).toThrow(StreamMapError);
    expect(() => parsePayloadTypeMap(spec)).toThrow(expect.objectContaining({ code: 'pt-malformed' }));
  });

  it('refuses a payload type named twice', () => {
    expect(() => parsePayloadTypeMap('96=vp8,96=opus')).toThrow(
      expect.objectContaining({ code: 'pt-repeated', message: '--pt names payload type 96 twice' }),
    );
  });

  it('normalises codec names', () => {
    expect(normalizeCodecName(' Audio/OPUS ')).toBe('opus');
    expect(normalizeCodecName('H264')).toBe('h264');
  });
});
