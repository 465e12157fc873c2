import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LIMITS,
  KEY_SERVICE_ERROR_CODES,
  ackSchema,
  eventSchemas,
  parseErrorCode,
  requestSchemas,
} from '@conclave/key-service/protocol';

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

describe('error codes', () => {
  const issuesOf = (result: { success: boolean; error?: { issues: unknown[] } }) => {
    if (result.success || result.error === undefined) throw new Error('expected a failed parse');
    return result.error.issues as Parameters<typeof parseErrorCode>[0];
  };

  it("a binary field over its limit is 'too-large', by the issue's tag and not its text", () => {
    const oversized = schemas.commit.safeParse({ commit: new Uint8Array(101), groupInfo: new Uint8Array(1) });
    expect(parseErrorCode(issuesOf(oversized))).toBe('too-large');
    // The message's text decides nothing: the old text without the tag is a plain bad request.
    const [issue] = issuesOf(oversized);
    if (issue?.code !== 'custom') throw new Error('expected the tagged custom issue');
    expect(parseErrorCode([{ ...issue, params: undefined }])).toBe('bad-request');
    expect(parseErrorCode([{ ...issue, message: 'anything' }])).toBe('too-large');
    const empty = schemas.commit.safeParse({ commit: new Uint8Array(0), groupInfo: new Uint8Array(1) });
    expect(parseErrorCode(issuesOf(empty))).toBe('bad-request');
  });

  it('an acknowledgement from the server carries one of the known codes, or is malformed', () => {
    for (const code of KEY_SERVICE_ERROR_CODES) {
      expect(ackSchema.safeParse({ ok: false, error: { code, message: 'm' } }).success).toBe(true);
    }
    expect(ackSchema.safeParse({ ok: false, error: { code: 'owned', message: 'm' } }).success).toBe(false);
    expect(
      ackSchema.safeParse({ ok: false, error: { code: 'internal', message: 'm'.repeat(1001) } }).success,
    ).toBe(false);
    expect(
      ackSchema.safeParse({ ok: false, error: { code: 'stale-epoch', message: 'm', epoch: -1 } }).success,
    ).toBe(false);
    expect(ackSchema.safeParse({ ok: true, result: { epoch: 3 } }).success).toBe(true);
    expect(ackSchema.safeParse({ ok: 'yes' }).success).toBe(false);
  });
});
