// Verified BCrypt outcomes shared through Redis (issue 24): after a restart, or on a second instance, a
// user already verified elsewhere is not checked by BCrypt again. 200 users' first logins after a
// deploy cost 200 comparisons once for the whole fleet, not once per instance and restart.
//
// What Redis holds: a key named by an HMAC (the instances' shared redisKeySecret) of the login, the
// password and the user's ArzSw row as read (crypt, plain text, connection string), with no value worth
// reading, expiring with the local outcome's bound. Redis learns no password nor login; a changed
// password, a removed login or a tenant move changes the row, so old entries are unreachable. Only
// verified outcomes are stored: a wrong password is never written, and a missing key means "check".
// Redis slow or away: a lookup gives up after the command timeout and BCrypt runs as without it.
import { Redis } from 'ioredis'
import { RedisKeyHasher } from '../cache/redis-secrets.ts'
import type { FastPathSettings } from '../config/fast-path.ts'

export interface SharedOutcomeOptions {
  readonly redisUrl: string
  /** e.g. `fastpath:`; the entries lie under `<prefix>auth:v1:`. */
  readonly keyPrefix: string
  /** redisKeySecret: the same on every instance, so they find each other's entries. */
  readonly keySecret: string
  /** A lookup slower than this is given up (ms). */
  readonly commandTimeoutMs: number
}

export class SharedOutcomes {
  readonly #redis: Redis
  readonly #hasher: RedisKeyHasher
  readonly #prefix: string
  /** Redis commands that failed or timed out (tests, metrics). */
  errors = 0

  constructor(options: SharedOutcomeOptions) {
    this.#hasher = new RedisKeyHasher(options.keySecret)
    this.#prefix = `${options.keyPrefix}auth:v1:`
    // No offline queue: while Redis is away a command fails at once, as for the answer cache.
    this.#redis = new Redis(options.redisUrl, {
      commandTimeout: options.commandTimeoutMs, enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 1000,
      retryStrategy: (attempt: number) => Math.min(attempt * 200, 2000),
    })
    this.#redis.on('error', () => { this.errors++ })
  }

  /** The Redis key of these fields (login, password, the row's secrets): an HMAC, nothing in clear. */
  key(fields: readonly string[]): string {
    // Length-prefixed: a field holding a separator cannot make two field lists share a key.
    return this.#prefix + this.#hasher.hash(fields.map((field) => `${field.length}:${field}`).join(''))
  }

  /** How long a verified outcome of these fields has left in Redis (ms); 0 when none, or Redis failed. */
  async remainingMs(fields: readonly string[]): Promise<number> {
    try {
      const left = await this.#redis.pttl(this.key(fields))
      return left > 0 ? left : 0
    } catch {
      this.errors++
      return 0
    }
  }

  /** Stores a verified outcome of these fields for `ttlMs`; never waited for, never rejects. */
  rememberVerified(fields: readonly string[], ttlMs: number): void {
    const ms = Math.floor(ttlMs)
    if (ms < 1) return
    this.#redis.set(this.key(fields), '1', 'PX', ms).catch(() => { this.errors++ })
  }

  async close(): Promise<void> {
    this.#redis.disconnect()
  }
}

/** The shared-outcome options of the fast paths' settings; undefined without redisUrl or when turned off. */
export function sharedOutcomesFrom(settings: FastPathSettings): SharedOutcomeOptions | undefined {
  if (settings.redisUrl === undefined || !settings.authSharedOutcomes) return undefined
  return { redisUrl: settings.redisUrl, keyPrefix: settings.redisKeyPrefix, keySecret: settings.redisKeySecret, commandTimeoutMs: settings.authRedisTimeoutMs }
}
