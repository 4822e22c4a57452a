// Token buckets shared by every proxy instance through Redis: one Lua script takes from all of a
// request's buckets atomically (all or none), on Redis's own clock so instances' clocks do not matter.
import { Redis } from 'ioredis'
import { RedisKeyHasher } from '../../cache/redis-secrets.ts'
import type { BucketSpec } from './token-buckets.ts'

// KEYS: the buckets; ARGV: rate, burst per bucket. Returns 0 (taken) or the wait in ms.
const TAKE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local wait = 0
local levels = {}
for i, key in ipairs(KEYS) do
  local rate = tonumber(ARGV[i * 2 - 1])
  local burst = tonumber(ARGV[i * 2])
  local v = redis.call('HMGET', key, 't', 'at')
  local tokens = tonumber(v[1]) or burst
  local at = tonumber(v[2]) or now
  tokens = math.min(burst, tokens + (now - at) * rate / 1000)
  if tokens < 1 then
    local w = math.ceil((1 - tokens) * 1000 / rate)
    if w > wait then wait = w end
  end
  levels[i] = tokens
end
if wait == 0 then
  for i, key in ipairs(KEYS) do
    local rate = tonumber(ARGV[i * 2 - 1])
    local burst = tonumber(ARGV[i * 2])
    redis.call('HSET', key, 't', tostring(levels[i] - 1), 'at', now)
    redis.call('PEXPIRE', key, math.ceil(burst * 1000 / rate) + 1000)
  end
end
return wait
`

type WithTake = Redis & { limitTake(numKeys: number, ...args: Array<string | number>): Promise<number> }

export class RedisTokenBuckets {
  readonly #redis: WithTake
  readonly #prefix: string
  readonly #hasher: RedisKeyHasher

  /** `keySecret`: of the keyed hash naming each bucket (config redisKeySecret, shared by the instances). */
  constructor(redisUrl: string, keyPrefix: string, commandTimeoutMs: number, keySecret: string) {
    // No offline queue and no retries: while Redis is away a take fails at once and the caller
    // falls back to its local buckets instead of holding the request.
    this.#redis = new Redis(redisUrl, {
      commandTimeout: commandTimeoutMs, enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 1000,
      retryStrategy: (attempt: number) => Math.min(attempt * 200, 2000),
    }) as WithTake
    this.#redis.on('error', () => {}) // reconnects by itself; takes fall back meanwhile
    this.#redis.defineCommand('limitTake', { lua: TAKE_SCRIPT })
    this.#prefix = `${keyPrefix}limit:`
    this.#hasher = new RedisKeyHasher(keySecret)
  }

  /** As LocalTokenBuckets.take, shared; rejects when Redis does not answer within the command timeout. */
  async take(specs: readonly BucketSpec[]): Promise<number> {
    const args: Array<string | number> = []
    for (const spec of specs) args.push(this.#prefix + this.#hasher.hash(spec.key))
    for (const spec of specs) args.push(spec.rate, spec.burst)
    return Number(await this.#redis.limitTake(specs.length, ...args))
  }

  get ready(): boolean {
    return this.#redis.status === 'ready'
  }

  async close(): Promise<void> {
    this.#redis.disconnect()
  }
}
