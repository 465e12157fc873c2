// The error taxonomy (server/src/errors.ts): what a client may see of a failure.
import { describe, expect, it } from 'vitest';
import { ConclaveError, InvalidStateError, toWireError } from '../../../server/src/errors.ts';

describe('ConclaveError', () => {
  it('carries a code, a status (400 by default) and its message', () => {
    const error = new ConclaveError('bad-request', 'no');
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ name: 'ConclaveError', code: 'bad-request', status: 400, message: 'no' });
    expect(new ConclaveError('room-full', 'full', 503).status).toBe(503);
  });

  it('InvalidStateError is a ConclaveError with code invalid-state and status 409', () => {
    const error = new InvalidStateError('not joined');
    expect(error).toBeInstanceOf(ConclaveError);
    expect(error).toMatchObject({
      name: 'InvalidStateError',
      code: 'invalid-state',
      status: 409,
      message: 'not joined',
    });
  });
});

describe('toWireError', () => {
  it('passes on the code and message of a ConclaveError', () => {
    expect(toWireError(new ConclaveError('wrong-room', 'other room', 403))).toEqual({
      code: 'wrong-room',
      message: 'other room',
    });
    expect(toWireError(new InvalidStateError('closed'))).toEqual({
      code: 'invalid-state',
      message: 'closed',
    });
  });

  it('hides everything else behind a generic internal error', () => {
    const leaky = new Error('ENOENT: /srv/conclave/.data/token-secret');
    for (const thrown of [
      leaky,
      new TypeError('x is undefined'),
      'a string',
      undefined,
      { code: 'forbidden', message: 'fake' },
    ]) {
      expect(toWireError(thrown)).toEqual({ code: 'internal', message: 'internal server error' });
    }
  });
});
