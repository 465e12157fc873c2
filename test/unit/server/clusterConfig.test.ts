// Cluster settings (server/src/cluster/clusterConfig.ts): off without CONCLAVE_REDIS_URL, defaults,
// and refusals that name the variable and never echo the Redis URL (it may hold a password).
import { describe, expect, it } from 'vitest';
import { loadClusterConfig } from '../../../server/src/cluster/clusterConfig.ts';
import { ConfigError } from '../../../server/src/config.ts';

const PUBLIC = 'https://meet.example.org';

function problems(env: Record<string, string>, hostname = 'host-1'): string[] {
  try {
    loadClusterConfig(env, PUBLIC, hostname);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error(`loadClusterConfig accepted ${JSON.stringify(env)}`);
}

describe('loadClusterConfig', () => {
  it('is off (undefined) without CONCLAVE_REDIS_URL, or with it empty', () => {
    expect(loadClusterConfig({}, PUBLIC)).toBeUndefined();
    expect(loadClusterConfig({ CONCLAVE_REDIS_URL: '' }, PUBLIC)).toBeUndefined();
  });

  it('has defaults: the host name as node name, the public URL as node URL, 1 s heartbeat, 5 s TTL', () => {
    expect(
      loadClusterConfig({ CONCLAVE_REDIS_URL: 'redis://10.0.0.5:6379' }, PUBLIC, 'Web-3.example.org'),
    ).toEqual({
      redisUrl: 'redis://10.0.0.5:6379',
      nodeName: 'web-3-example-org',
      nodeUrl: PUBLIC,
      heartbeatMs: 1000,
      ttlMs: 5000,
      keyPrefix: 'conclave:',
    });
  });

  it('takes every setting', () => {
    expect(
      loadClusterConfig(
        {
          CONCLAVE_REDIS_URL: 'rediss://:pw@redis.internal:6380/2',
          CONCLAVE_NODE_NAME: 'sfu-7',
          CONCLAVE_NODE_URL: 'https://sfu-7.internal:3000',
          CONCLAVE_CLUSTER_HEARTBEAT_MS: '500',
          CONCLAVE_CLUSTER_TTL_MS: '2000',
          CONCLAVE_CLUSTER_PREFIX: 'eu:',
        },
        PUBLIC,
      ),
    ).toEqual({
      redisUrl: 'rediss://:pw@redis.internal:6380/2',
      nodeName: 'sfu-7',
      nodeUrl: 'https://sfu-7.internal:3000',
      heartbeatMs: 500,
      ttlMs: 2000,
      keyPrefix: 'eu:',
    });
  });

  it('refuses cluster settings without CONCLAVE_REDIS_URL', () => {
    expect(problems({ CONCLAVE_NODE_NAME: 'a', CONCLAVE_CLUSTER_TTL_MS: '9000' })).toEqual([
      'CONCLAVE_NODE_NAME: only applies in cluster mode; set CONCLAVE_REDIS_URL too',
      'CONCLAVE_CLUSTER_TTL_MS: only applies in cluster mode; set CONCLAVE_REDIS_URL too',
    ]);
  });

  it('refuses a URL that is not redis:// or rediss://, without echoing it', () => {
    for (const url of ['http://:secret-pw@x:6379', 'not a url secret-pw', 'redis']) {
      const found = problems({ CONCLAVE_REDIS_URL: url });
      expect(found).toEqual(['CONCLAVE_REDIS_URL: must be a redis:// or rediss:// URL']);
      expect(found.join(' ')).not.toContain('secret-pw');
    }
  });

  it('refuses bad node names, URLs, timings and prefixes, naming each', () => {
    const redis = { CONCLAVE_REDIS_URL: 'redis://127.0.0.1:6379' };
    for (const name of ['Node', 'a_b', '-a', 'a-', 'a'.repeat(64), 'a b', '../x']) {
      expect(problems({ ...redis, CONCLAVE_NODE_NAME: name })).toEqual([
        'CONCLAVE_NODE_NAME: must be 1-63 lowercase letters, digits or inner hyphens',
      ]);
    }
    expect(problems({ ...redis, CONCLAVE_NODE_URL: 'ftp://x' })[0]).toMatch(/^CONCLAVE_NODE_URL: /);
    expect(problems({ ...redis, CONCLAVE_CLUSTER_HEARTBEAT_MS: '10' })[0]).toMatch(
      /^CONCLAVE_CLUSTER_HEARTBEAT_MS: /,
    );
    expect(
      problems({ ...redis, CONCLAVE_CLUSTER_HEARTBEAT_MS: '1000', CONCLAVE_CLUSTER_TTL_MS: '1500' }),
    ).toEqual([
      'CONCLAVE_CLUSTER_TTL_MS: CONCLAVE_CLUSTER_TTL_MS must be at least twice CONCLAVE_CLUSTER_HEARTBEAT_MS',
    ]);
    expect(problems({ ...redis, CONCLAVE_CLUSTER_PREFIX: 'has space' })[0]).toMatch(
      /^CONCLAVE_CLUSTER_PREFIX: /,
    );
  });

  it('asks for CONCLAVE_NODE_NAME when the host name is not a valid node name', () => {
    expect(problems({ CONCLAVE_REDIS_URL: 'redis://127.0.0.1' }, 'host_with_underscore')).toEqual([
      'CONCLAVE_NODE_NAME: must be set: the host name is not a valid node name (1-63 lowercase letters, digits or inner hyphens)',
    ]);
  });
});
