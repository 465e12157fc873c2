// The key service (MLS Delivery Service) at scrape time: its rooms and sockets, the epochs it has
// accepted, and what it refused. Counts only: the key service holds no secret to leak.
import type { KeyService } from '@conclave/key-service/server';
import { gauge, type MetricFamily } from './prometheus.ts';

export function collectKeyService(keys: KeyService): MetricFamily[] {
  const stats = keys.stats();
  const byCode = (counts: Record<string, number>) =>
    Object.entries(counts).map(([code, value]) => ({ labels: { code }, value }));
  return [
    gauge('conclave_keys_rooms', 'Rooms the key service holds a group view for.', [{ value: stats.rooms }]),
    gauge('conclave_keys_sockets', 'Sockets connected to the key service.', [{ value: stats.sockets }]),
    {
      name: 'conclave_keys_epochs_total',
      help: 'MLS commits the key service accepted: each moves a group to a new epoch.',
      type: 'counter',
      samples: [{ value: stats.commits }],
    },
    {
      name: 'conclave_keys_commit_rejections_total',
      help: 'MLS commits the key service refused, by error code (stale-epoch: lost a race).',
      type: 'counter',
      samples: byCode(stats.commitRejections),
    },
    {
      name: 'conclave_keys_policy_refusals_total',
      help: 'MLS commits and proposals the membership policy refused, by violation code (add, remove-present, …).',
      type: 'counter',
      samples: byCode(stats.policyRefusals),
    },
    {
      name: 'conclave_keys_request_rejections_total',
      help: 'Key-service requests of any kind answered with an error, by error code.',
      type: 'counter',
      samples: byCode(stats.requestRejections),
    },
    {
      name: 'conclave_keys_handshake_refusals_total',
      help: 'Key-service connections refused at the handshake, by error code.',
      type: 'counter',
      samples: byCode(stats.handshakeRefusals),
    },
  ];
}
