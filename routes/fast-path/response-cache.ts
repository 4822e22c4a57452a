// Cached fast-path answers in two tiers (process LRU, shared Redis) that are never served past maxStaleMs nor across a write the proxy saw.
import { LRUCache } from 'lru-cache'
import { Redis } from 'ioredis'
import { renderAnswer, templateFromBody, type AnswerTemplate } from './answer-template.ts'
import { TenantGenerations, type TenantGeneration } from './tenant-generations.ts'
import { decodeRecord, encodeRecord } from './cache-record.ts'

export interface ResponseCacheOptions {
  /** Bytes the in-process tier may hold. */
  readonly l1MaxBytes: number
  /** Answers larger than this are not cached. */
  readonly maxEntryBytes: number
  /** An entry is served only while less than this has passed since its load began (issue 6, mode ttl). */
  readonly maxStaleMs?: number
  /** The shared tier; without it the cache is L1 only. A given client stays the caller's to close. */
  readonly redis?: Redis | string
  /** How long a Redis command may take before the request goes on without it. */
  readonly redisCommandTimeoutMs?: number
  readonly keyPrefix: string
}

export interface ResponseCacheCounts {
  hitL1: number
  hitL2: number
  miss: number
  stale: number
  invalidation: number
  invalidationHeard: number
  storeSkippedTooBig: number
  storeSkippedInvalidated: number
  storeSkippedShape: number
  redisError: number
}

interface Entry {
  readonly template: AnswerTemplate
  readonly loadStartedAt: number
  readonly epoch: number
}

interface Flight {
  readonly epoch: number
  readonly done: Promise<Buffer | AnswerTemplate | undefined>
}

// Stores the entry only if the tenant's generation is still the one the load began under: a fill
// that raced a write on any instance is dropped atomically, not just by this instance's view.
const STORE_IF_GENERATION = `if (redis.call('GET', KEYS[1]) or '0') == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3]) return 1 end return 0`

export class ResponseCache {
  readonly counts: ResponseCacheCounts = {
    hitL1: 0, hitL2: 0, miss: 0, stale: 0, invalidation: 0, invalidationHeard: 0,
    storeSkippedTooBig: 0, storeSkippedInvalidated: 0, storeSkippedShape: 0, redisError: 0,
  }
  readonly #maxStaleMs: number
  readonly #maxEntryBytes: number
  readonly #keyPrefix: string
  readonly #channel: string
  readonly #l1: LRUCache<string, Entry>
  readonly #tenants = new TenantGenerations()
  readonly #flights = new Map<string, Flight>()
  readonly #redis: Redis | undefined
  readonly #ownsRedis: boolean
  readonly #subscriber: Redis | undefined
  #subscribed = false

  constructor(options: ResponseCacheOptions) {
    const { l1MaxBytes, maxEntryBytes, maxStaleMs = 2000, redisCommandTimeoutMs = 100, keyPrefix } = options
    for (const [name, value] of [['l1MaxBytes', l1MaxBytes], ['maxEntryBytes', maxEntryBytes], ['maxStaleMs', maxStaleMs], ['redisCommandTimeoutMs', redisCommandTimeoutMs]] as const) {
      if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`response cache: ${name} must be a positive integer, got ${String(value)}`)
    }
    if (maxEntryBytes > l1MaxBytes) throw new RangeError(`response cache: maxEntryBytes (${maxEntryBytes}) must not exceed l1MaxBytes (${l1MaxBytes})`)
    if (typeof keyPrefix !== 'string' || keyPrefix === '') throw new RangeError('response cache: keyPrefix must be a non-empty string')
    this.#maxStaleMs = maxStaleMs
    this.#maxEntryBytes = maxEntryBytes
    this.#keyPrefix = keyPrefix
    this.#channel = `${keyPrefix}invalidated`
    this.#l1 = new LRUCache<string, Entry>({
      maxSize: l1MaxBytes,
      sizeCalculation: (entry, key) => entry.template.bytes.length + entry.template.slots.byteLength + key.length + 64,
    })
    if (options.redis === undefined) {
      this.#ownsRedis = false
      return
    }
    const onError = (): void => {
      this.counts.redisError++
    }
    this.#ownsRedis = typeof options.redis === 'string'
    // No offline queue: while Redis is away a command fails at once and the request goes on from L1.
    const redis = typeof options.redis === 'string'
      ? new Redis(options.redis, {
        commandTimeout: redisCommandTimeoutMs, enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 1000,
        retryStrategy: (attempt: number) => Math.min(attempt * 200, 2000),
      })
      : options.redis
    redis.on('error', onError)
    const subscriber = redis.duplicate({ enableOfflineQueue: false, autoResubscribe: false, commandTimeout: 2000, lazyConnect: false })
    subscriber.on('error', onError)
    subscriber.on('close', () => {
      this.#subscribed = false
    })
    subscriber.on('ready', () => {
      subscriber.subscribe(this.#channel).then(() => {
        // Invalidations published while we were not listening are lost: distrust what we knew.
        this.#tenants.forgetRedis()
        this.#subscribed = true
      }, onError)
    })
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.#channel && this.#tenants.heard(message)) this.counts.invalidationHeard++
    })
    this.#redis = redis
    this.#subscriber = subscriber
  }

  /** Whether the shared tier is in use now (connected and listening for invalidations). */
  get l2Available(): boolean {
    return this.#subscribed && this.#redis!.status === 'ready'
  }

  /** The cached answer with fresh timestamps, or undefined on a miss. Never throws for Redis. */
  async get(tenantId: string, routeKey: string): Promise<Buffer | undefined> {
    const tenant = this.#tenants.of(tenantId)
    const key = tenant.hash + ':' + routeKey
    const entry = this.#l1.get(key)
    if (entry !== undefined) {
      if (entry.epoch === tenant.epoch) {
        if (Date.now() - entry.loadStartedAt < this.#maxStaleMs) {
          this.counts.hitL1++
          return renderAnswer(entry.template)
        }
        this.counts.stale++
      }
      this.#l1.delete(key)
    }
    if (!this.l2Available) {
      this.counts.miss++
      return undefined
    }
    const epoch = tenant.epoch
    const record = await this.#readL2(tenant, routeKey)
    const decoded = record === undefined ? undefined : decodeRecord(record)
    if (decoded === undefined) {
      this.counts.miss++
      return undefined
    }
    const { loadStartedAt, template } = decoded
    if (Date.now() - loadStartedAt >= this.#maxStaleMs) {
      this.counts.stale++
      return undefined
    }
    // Read before an invalidation landed: fine to answer (the read overlapped the write), not to keep.
    if (tenant.epoch === epoch) this.#l1.set(key, { template, loadStartedAt, epoch })
    this.counts.hitL2++
    return renderAnswer(template)
  }

  /**
   * Runs `load` once for any number of concurrent callers of one key (a caller after an invalidation
   * starts its own), stores the answer unless it is too big or a write was seen since the load began,
   * and returns the answer (undefined when `load` declined). A load's rejection reaches its callers.
   */
  async fill(tenantId: string, routeKey: string, load: () => Promise<Buffer | undefined>): Promise<Buffer | undefined> {
    const tenant = this.#tenants.of(tenantId)
    const key = tenant.hash + ':' + routeKey
    const flight = this.#flights.get(key)
    if (flight !== undefined && flight.epoch === tenant.epoch) return answerOf(await flight.done)
    const started: Flight = { epoch: tenant.epoch, done: this.#loadAndStore(tenant, key, routeKey, load) }
    this.#flights.set(key, started)
    try {
      return answerOf(await started.done)
    } finally {
      if (this.#flights.get(key) === started) this.#flights.delete(key)
    }
  }

  /** A write for this tenant went through: void its entries here at once and on every instance. */
  async invalidateTenant(tenantId: string): Promise<void> {
    const tenant = this.#tenants.of(tenantId)
    this.#tenants.bump(tenant)
    this.counts.invalidation++
    if (!this.l2Available) {
      tenant.redisGeneration = undefined
      return
    }
    const redis = this.#redis!
    try {
      const generation = await redis.incr(this.#generationKey(tenant))
      this.#tenants.adopt(tenant, generation)
      await redis.publish(this.#channel, tenant.hash + ':' + generation)
    } catch {
      this.counts.redisError++
      tenant.redisGeneration = undefined
    }
  }

  async close(): Promise<void> {
    this.#l1.clear()
    this.#subscriber?.disconnect()
    if (this.#ownsRedis) this.#redis!.disconnect()
  }

  async #loadAndStore(tenant: TenantGeneration, key: string, routeKey: string, load: () => Promise<Buffer | undefined>): Promise<Buffer | AnswerTemplate | undefined> {
    // The generation is read before the load begins: every write whose INCR Redis saw by then is in
    // the database state the load reads, so storing under that generation is exact.
    if (tenant.redisGeneration === undefined && this.l2Available) await this.#readGeneration(tenant)
    const epoch = tenant.epoch
    const generation = tenant.redisGeneration
    const loadStartedAt = Date.now()
    const body = await load()
    if (body === undefined) return undefined
    if (body.length > this.#maxEntryBytes) {
      this.counts.storeSkippedTooBig++
      return body
    }
    let template: AnswerTemplate
    try {
      template = templateFromBody(body)
    } catch {
      this.counts.storeSkippedShape++
      return body
    }
    if (tenant.epoch !== epoch) {
      this.counts.storeSkippedInvalidated++
      return template
    }
    const lifetime = this.#maxStaleMs - (Date.now() - loadStartedAt)
    if (lifetime <= 0) return template
    this.#l1.set(key, { template, loadStartedAt, epoch })
    if (generation !== undefined && this.l2Available) {
      // Not awaited: the client never waits on Redis (ARCHITECTURE.md invariant 4).
      this.#redis!.eval(STORE_IF_GENERATION, 2, this.#generationKey(tenant), this.#entryKey(tenant, generation, routeKey),
        String(generation), encodeRecord(template, loadStartedAt), lifetime).catch(() => {
        this.counts.redisError++
      })
    }
    return template
  }

  async #readL2(tenant: TenantGeneration, routeKey: string): Promise<Buffer | undefined> {
    const redis = this.#redis!
    if (tenant.redisGeneration === undefined && !(await this.#readGeneration(tenant))) return undefined
    try {
      return (await redis.getBuffer(this.#entryKey(tenant, tenant.redisGeneration!, routeKey))) ?? undefined
    } catch {
      this.counts.redisError++
      return undefined
    }
  }

  /** Learns the tenant's generation from Redis; false when Redis failed or an invalidation overtook the read. */
  async #readGeneration(tenant: TenantGeneration): Promise<boolean> {
    const epoch = tenant.epoch
    try {
      const stored = await this.#redis!.get(this.#generationKey(tenant))
      // An invalidation while we asked would make what we read older than what we know.
      if (tenant.epoch !== epoch) return false
      this.#tenants.adopt(tenant, stored === null ? 0 : Number(stored))
      return true
    } catch {
      this.counts.redisError++
      return false
    }
  }

  // The tenant's hash in braces: both keys of a tenant land in one Redis Cluster slot, as the store script needs.
  #generationKey(tenant: TenantGeneration): string {
    return `${this.#keyPrefix}g:{${tenant.hash}}`
  }

  #entryKey(tenant: TenantGeneration, generation: number, routeKey: string): string {
    return `${this.#keyPrefix}r:{${tenant.hash}}:${generation}:${routeKey}`
  }
}

function answerOf(done: Buffer | AnswerTemplate | undefined): Buffer | undefined {
  return done === undefined || Buffer.isBuffer(done) ? done : renderAnswer(done)
}
