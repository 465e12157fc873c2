// The key service (MLS Delivery Service) at scrape time: its rooms and sockets, the epochs it has
// accepted, and what it refused. Counts only: the key service holds no secret to leak. Its counters
// are kept by the key service (stats.ts); the metrics mirror them in collect(), so they are set,
// not added to.
import type { KeyService } from '@conclave/key-service/server';
import { Counter, Gauge, type Registry } from 'prom-client';

export type KeyServiceReading = ReturnType<KeyService['stats']>;

type CountsByCode = 'commitRejections' | 'policyRefusals' | 'requestRejections' | 'handshakeRefusals';

const BY_CODE: readonly [name: string, help: string, field: CountsByCode][] = [
  [
    'conclave_keys_commit_rejections_total',
    'MLS commits the key service refused, by error code (stale-epoch: lost a race).',
    'commitRejections',
  ],
  [
    'conclave_keys_policy_refusals_total',
    'MLS commits and proposals the membership policy refused, by violation code (add, remove-present, …).',
    'policyRefusals',
  ],
  [
    'conclave_keys_request_rejections_total',
    'Key-service requests of any kind answered with an error, by error code.',
    'requestRejections',
  ],
  [
    'conclave_keys_handshake_refusals_total',
    'Key-service connections refused at the handshake, by error code.',
    'handshakeRefusals',
  ],
];

/** Registers the conclave_keys_* metrics; `read` gives the key service's counts (synchronously). */
export function registerKeyServiceMetrics(registry: Registry, read: () => KeyServiceReading): void {
  const registers = [registry];
  new Gauge({
    name: 'conclave_keys_rooms',
    help: 'Rooms the key service holds a group view for.',
    registers,
    collect() {
      this.set(read().rooms);
    },
  });
  new Gauge({
    name: 'conclave_keys_sockets',
    help: 'Sockets connected to the key service.',
    registers,
    collect() {
      this.set(read().sockets);
    },
  });
  new Counter({
    name: 'conclave_keys_epochs_total',
    help: 'MLS commits the key service accepted: each moves a group to a new epoch.',
    registers,
    collect() {
      this.reset();
      this.inc(read().commits);
    },
  });
  for (const [name, help, field] of BY_CODE) {
    new Counter({
      name,
      help,
      labelNames: ['code'],
      registers,
      collect() {
        this.reset();
        for (const [code, count] of Object.entries(read()[field])) this.inc({ code }, count);
      },
    });
  }
}
