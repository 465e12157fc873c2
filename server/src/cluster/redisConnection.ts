// The one way Conclave opens Redis. Commands fail at once while Redis is unreachable (no offline
// queue, a command timeout), so a caller sees a clean error instead of waiting on a queue that may
// replay stale writes later; the client keeps reconnecting in the background.
import { Redis } from 'ioredis';

export class ClusterStoreError extends Error {
  constructor(
    readonly code: 'unavailable' | 'malformed',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ClusterStoreError';
  }
}

export interface RedisConnectionOptions {
  /** Milliseconds a command may take before it fails (default 1000). */
  commandTimeoutMs?: number;
}

/**
 * Connects to `url` and waits until Redis answers.
 * @throws ClusterStoreError('unavailable') if it cannot connect; the message never holds the URL
 */
export async function connectRedis(url: string, options: RedisConnectionOptions = {}): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs ?? 1_000,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(50 * times, 1_000),
  });
  // Errors surface on the commands; an unhandled 'error' event would crash the process.
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    throw new ClusterStoreError('unavailable', `cannot reach Redis: ${describe(error)}`, { cause: error });
  }
  return redis;
}

/** A Redis failure as a short sentence without the URL (which may carry a password). */
export function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/rediss?:\/\/\S+/g, '<redis url>');
}

/**
 * Runs one Redis operation; a connection or timeout failure becomes ClusterStoreError('unavailable').
 * A ClusterStoreError raised inside (a malformed record) passes through unchanged.
 */
export async function guarded<T>(what: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (error) {
    if (error instanceof ClusterStoreError) throw error;
    throw new ClusterStoreError('unavailable', `${what}: Redis failed: ${describe(error)}`, { cause: error });
  }
}
