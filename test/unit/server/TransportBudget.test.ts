// The server-wide transport cap (server/src/media/TransportBudget.ts).
import { describe, expect, it } from 'vitest';
import { isPortExhaustion, TransportBudget } from '../../../server/src/media/TransportBudget.ts';

describe('TransportBudget', () => {
  it('refuses past the cap with server-full and takes each transport back once', () => {
    const budget = new TransportBudget(2);
    const first = budget.reserve();
    budget.reserve();
    expect(() => budget.reserve()).toThrow(expect.objectContaining({ code: 'server-full', status: 503 }));
    first();
    first();
    expect(budget.open).toBe(1);
    budget.reserve();
    expect(() => budget.reserve()).toThrow(expect.objectContaining({ code: 'server-full' }));
  });

  it("recognises mediasoup's port-exhaustion error and nothing else", () => {
    expect(
      isPortExhaustion(new Error("no more available ports [transport:udp, ip:'127.0.0.1', numAttempt:2]")),
    ).toBe(true);
    expect(isPortExhaustion(new Error('Router closed'))).toBe(false);
    expect(isPortExhaustion('no more available ports')).toBe(false);
  });
});
