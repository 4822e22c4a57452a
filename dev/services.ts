// Where the test suite, the benchmark and the fuzz run find their PostgreSQL and Redis: read from the
// environment (PG_ADMIN_URL, REDIS_URL), as test/run.ts prepared it for the tests (it starts an
// embedded PostgreSQL when none is reachable). In dev/ so that bench/ and test/ share it without the
// harness reaching into test/.
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import type { Test } from 'tap'
import { postgresReachable as probePostgres } from '../proxy/readiness.ts'

export const DEFAULT_PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres'
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379'

export function pgAdminUrl(): string {
  return process.env.PG_ADMIN_URL || DEFAULT_PG_ADMIN_URL
}

export function redisUrl(): string {
  return process.env.REDIS_URL || DEFAULT_REDIS_URL
}

/** A URL for another database on the same server as the admin URL. */
export function databaseUrl(database: string): string {
  const url = new URL(pgAdminUrl())
  url.pathname = `/${database}`
  return url.toString()
}

/** Whether the PostgreSQL of this run answers (the readiness check's own probe, with its own bound). */
export function postgresReachable(url = pgAdminUrl(), timeoutMs = 2000): Promise<boolean> {
  return probePostgres(url, timeoutMs)
}

export async function redisReachable(url = redisUrl(), timeoutMs = 1000): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null })
  redis.on('error', () => {})
  try {
    await redis.connect()
    return (await redis.ping()) === 'PONG'
  } catch {
    return false
  } finally {
    redis.disconnect()
  }
}

/**
 * Options for a tap test that needs Redis: skipped, with the reason in its name, when run.ts found
 * none. Use as `t.test('...', needsRedis(), async t => ...)`.
 */
export function needsRedis(): { skip?: string } {
  return process.env.FASTPATH_TEST_REDIS === 'unavailable'
    ? { skip: `no Redis reachable at ${redisUrl()}: this test needs one` }
    : {}
}

/**
 * An Npgsql connection string (the form ArzSw stores) for `database` on the test server, with the
 * admin URL's user and password: the embedded PostgreSQL has a password where the local one trusts.
 * `port` overrides the server's port (a closed port for "database unreachable" tests).
 */
export function npgsqlConnectionString(database: string, options: { port?: number } = {}): string {
  const server = new URL(pgAdminUrl())
  const user = decodeURIComponent(server.username) || 'postgres'
  const password = decodeURIComponent(server.password)
  return `Host=${server.hostname};Port=${options.port ?? (server.port || 5432)};Database=${database};Username=${user}` +
    (password ? `;Password=${password}` : '')
}

/** Deletes every Redis key under `prefix` (a test's own prefix, after it ran). */
export async function deleteRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(redisUrl())
  try {
    const keys = await redis.keys(`${prefix}*`)
    if (keys.length > 0) await redis.del(...keys)
  } finally {
    redis.disconnect()
  }
}

/** A Redis key prefix of the test's own (`<name>:<random>:`); every key under it goes when `t` ends. */
export function redisTestPrefix(t: Test, name: string): string {
  const prefix = `${name}:${randomUUID().slice(0, 8)}:`
  t.teardown(() => deleteRedisKeys(prefix))
  return prefix
}
