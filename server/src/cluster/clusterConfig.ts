// Cluster settings: CONCLAVE_REDIS_URL turns cluster mode on; without it Conclave runs alone, needs
// no Redis, and the other cluster variables are refused (a half-configured cluster is a mistake).
// What must hold: a bad value stops the start with a message naming the variable and the rule, never
// the value (the Redis URL may carry a password).
import os from 'node:os';
import { z } from 'zod';
import { ConfigError } from '../config.ts';

/** A node name: it appears in Redis keys, in /metrics labels and (later) in `/n/<node>/` paths. */
export const NODE_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

const ms = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

const clusterSchema = z
  .object({
    CONCLAVE_REDIS_URL: z
      .string()
      .refine(
        (raw) => URL.canParse(raw) && /^rediss?:$/.test(new URL(raw).protocol),
        'must be a redis:// or rediss:// URL',
      ),
    CONCLAVE_NODE_NAME: z
      .string()
      .regex(NODE_NAME, 'must be 1-63 lowercase letters, digits or inner hyphens')
      .optional(),
    /** The URL other nodes and the proxy reach this node at; defaults to the public URL. */
    CONCLAVE_NODE_URL: z.url({ protocol: /^https?$/ }).optional(),
    CONCLAVE_CLUSTER_HEARTBEAT_MS: ms(50, 60_000, 1_000),
    CONCLAVE_CLUSTER_TTL_MS: ms(100, 600_000, 5_000),
    CONCLAVE_CLUSTER_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9:_-]{1,64}$/, 'must be 1-64 letters, digits, colons, underscores or hyphens')
      .default('conclave:'),
  })
  .refine((e) => e.CONCLAVE_CLUSTER_TTL_MS >= 2 * e.CONCLAVE_CLUSTER_HEARTBEAT_MS, {
    message: 'CONCLAVE_CLUSTER_TTL_MS must be at least twice CONCLAVE_CLUSTER_HEARTBEAT_MS',
    path: ['CONCLAVE_CLUSTER_TTL_MS'],
  });

export interface ClusterConfig {
  /** Never log this: it may carry a password. */
  redisUrl: string;
  nodeName: string;
  /** Where this node is reached, advertised in the registry. */
  nodeUrl: string;
  heartbeatMs: number;
  /** A node whose registry key is older than this is dead. */
  ttlMs: number;
  /** Prefix of every Redis key Conclave writes, so one Redis can hold several clusters. */
  keyPrefix: string;
}

const CLUSTER_ONLY = [
  'CONCLAVE_NODE_NAME',
  'CONCLAVE_NODE_URL',
  'CONCLAVE_CLUSTER_HEARTBEAT_MS',
  'CONCLAVE_CLUSTER_TTL_MS',
  'CONCLAVE_CLUSTER_PREFIX',
] as const;

/** The host name as a node name, when it is one (lowercased, dots to hyphens), else undefined. */
function hostNodeName(hostname: string): string | undefined {
  const candidate = hostname.toLowerCase().replaceAll('.', '-').slice(0, 63);
  return NODE_NAME.test(candidate) ? candidate : undefined;
}

/**
 * Cluster settings, or undefined when CONCLAVE_REDIS_URL is unset (Conclave runs alone).
 * @param publicUrl the server's public URL (config.ts), the default advertised node URL
 * @throws ConfigError naming each bad variable
 */
export function loadClusterConfig(
  env: Record<string, string | undefined>,
  publicUrl: string,
  hostname: string = os.hostname(),
): ClusterConfig | undefined {
  const relevant = Object.fromEntries(
    Object.entries(env).filter(
      ([k, v]) =>
        (k === 'CONCLAVE_REDIS_URL' || (CLUSTER_ONLY as readonly string[]).includes(k)) &&
        v !== undefined &&
        v !== '',
    ),
  );
  if (relevant['CONCLAVE_REDIS_URL'] === undefined) {
    const stray = CLUSTER_ONLY.filter((k) => relevant[k] !== undefined);
    if (stray.length > 0) {
      throw new ConfigError(
        stray.map((k) => `${k}: only applies in cluster mode; set CONCLAVE_REDIS_URL too`),
      );
    }
    return undefined;
  }
  const parsed = clusterSchema.safeParse(relevant);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`),
    );
  }
  const e = parsed.data;
  const nodeName = e.CONCLAVE_NODE_NAME ?? hostNodeName(hostname);
  if (nodeName === undefined) {
    throw new ConfigError([
      'CONCLAVE_NODE_NAME: must be set: the host name is not a valid node name (1-63 lowercase letters, digits or inner hyphens)',
    ]);
  }
  return {
    redisUrl: e.CONCLAVE_REDIS_URL,
    nodeName,
    nodeUrl: e.CONCLAVE_NODE_URL ?? publicUrl,
    heartbeatMs: e.CONCLAVE_CLUSTER_HEARTBEAT_MS,
    ttlMs: e.CONCLAVE_CLUSTER_TTL_MS,
    keyPrefix: e.CONCLAVE_CLUSTER_PREFIX,
  };
}
