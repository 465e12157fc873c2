import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, eventSchemas, requestSchemas } from '@conclave/key-service/protocol';

const schemas = requestSchemas({ ...DEFAULT_LIMITS, maxHandshakeBytes: 100, maxGroupInfoBytes: 200 });

describe('request schemas', () => {
  it('accept binary from Node (Buffer/Uint8Array) and browsers (ArrayBuffer)', () => {
    const a = schemas.commit.parse({ commit: Buffer.from([1, 2]), groupInfo: new Uint8Array([3]).buffer });
    expect(a.commit).toBeInstanceOf(Uint8Array);
    expect([...a.groupInfo]).toEqual([3]);
  });

  it('reject oversized, empty, mistyped and unexpected fields', () => {
    expect(
      schemas.commit.safeParse({ commit: new Uint8Array(101), groupInfo: new Uint8Array(1) }).success,
    ).toBe(false);
    expect(
      schemas.commit.safeParse({ commit: new Uint8Array(0), groupInfo: new Uint8Array(1) }).success,
    ).toBe(false);
    expect(schemas.commit.safeParse({ commit: 'AAAA', groupInfo: new Uint8Array(1) }).success).toBe(false);
    expect(schemas.sync.safeParse({ room: 'x' }).success).toBe(false);
    expect(schemas.welcome.safeParse({ to: '../../etc', message: new Uint8Array(1) }).success).toBe(false);
    expect(schemas.app.safeParse(null).success).toBe(false);
  });

  it('bound what the server may send the client', () => {
    const events = eventSchemas(DEFAULT_LIMITS);
    expect(events['remove-request'].safeParse({ epoch: -1, userId: 'alice-0001', leaves: [] }).success).toBe(
      false,
    );
    expect(events['remove-request'].safeParse({ epoch: 3, userId: 'alice-0001', leaves: [1] }).success).toBe(
      true,
    );
  });
});
