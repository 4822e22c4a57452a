// Cached fast-path answers in two tiers (process LRU, shared Redis) that are never served past maxStaleMs nor across a write the proxy saw.
//
// Over 300 lines because the two tiers, the generation checks and the one-load-per-key flights keep
// one promise together (never served past maxStaleMs, never across a write the instance saw): each
// path in and out of an entry has to be read beside the others to see that it holds.
import { LRUCache } from 'lru-cache'
import { Redis } from 'ioredis'
import { templateFromBody, type AnswerTemplate } from './answer-template.ts'
import { AnswerCopies } from './answer-copies.ts'
import { TenantGenerations, type TenantGeneration } from './tenant-generations.ts'
import { decodeRecord, encodeRecord } from './cache-record.ts'
import { BodySealer, RedisKeyHasher } from './redis-secrets.ts'
import type { CacheInvalidationCause } from '../core/events.ts'

/** The fastPath.cache.* and redis* settings, validated by config/load.ts, and the hooks. */
export interface ResponseCacheOptions {
  /** Bytes the in-process tier may hold. */
  readonly l1MaxBytes: number
  /** Answers larger than this are not cached. */
  readonly maxEntryBytes: number
  /** An entry is served only while less than this has passed since its load began (issue 6, mode ttl). */
  readonly maxStaleMs: number
  /**
   * The longer bound for callers that trust the tenant's change feed (mode cdc): an entry loaded while
   * the feed was following without a gap is served up to this age; every change heard voids it anyway.
   */
  readonly changeFeedMaxStaleMs: number
  /** The shared tier; without it the cache is L1 only. A given client stays the caller's to close. */
  readonly redis?: Redis | string
  /** How long a Redis command may take before the request goes on without it. */
  readonly redisCommandTimeoutMs: number
  readonly keyPrefix: string
  /** Secret of the keyed hash that names a tenant in Redis (shared by the instances). */
  readonly keySecret: string
  /** 32 bytes, base64: records in Redis are sealed with AES-256-GCM; unset: stored in clear. */
  readonly bodyKey?: string | undefined
  /** Told of every invalidation, for metrics and logs; must not throw. */
  readonly onInvalidated?: (cause: CacheInvalidationCause) => void
  /** Told when a loaded answer is not stored, with the route key it was loaded for; must not throw. */
  readonly onStoreSkipped?: (reason: 'too-big' | 'invalidated' | 'shape', routeKey: string) => void
}

/** How a lookup ended: served from memory or Redis, or not (a stale entry is also a miss). */
export type CacheLookup =
  | { readonly body: Buffer; readonly outcome: 'hit-l1' | 'hit-l2' | 'revalidated' }
  | { readonly body: undefined; readonly outcome: 'miss' | 'stale' }

const MISS: CacheLookup = Object.freeze({ body: undefined, outcome: 'miss' })
const STALE: CacheLookup = Object.freeze({ body: undefined, outcome: 'stale' })

/**
 * What a load gives: the answer, and optionally a validator — a token of the database state it read
 * (a PostgreSQL snapshot) that `Revalidate` can later compare with the current one.
 */
export type Loaded = Buffer | {
  readonly body: Buffer
  readonly validator?: string
  /** An answer without volatile timestamps (v1 GET new, docs/legacy-contract.md §8): kept as it is, no holes. */
  readonly timestampFree?: boolean
}

/**
 * Whether the database is still in the state `validator` was taken in. True only when that is
 * certain; it may throw (then it counts as false). See lookup().
 */
export type Revalidate = (validator: string) => Promise<boolean>

export interface ResponseCacheCounts {
  hitL1: number
  hitL2: number
  revalidated: number
  miss: number
  stale: number
  invalidation: number
  invalidationHeard: number
  storeSkippedTooBig: number
  storeSkippedInvalidated: number
  storeSkippedShape: number
  redisError: number
  /** Loads begun for a miss (concurrent misses of one key share one). */
  loads: number
  /** GETs of a tenant's generation sent to Redis (concurrent lookups share them: #confirmGeneration). */
  generationReads: number
}

/** A tenant's generation read in flight, and the one that will be sent when it answers. */
interface GenerationReads {
  inFlight: Promise<boolean> | undefined
  next: Promise<boolean> | undefined
}

interface Entry {
  readonly template: AnswerTemplate
  /** When the database state the answer reflects was last known to hold (load start, or a revalidation). */
  readonly loadStartedAt: number
  readonly epoch: number
  readonly validator?: string | undefined
}

interface Flight {
  readonly epoch: number
  /** Date.now() as the load began: its answer may miss changes committed after this. */
  readonly startedAt: number
  readonly done: Promise<Buffer | AnswerTemplate | undefined>
}

// Stores the entry only if the tenant's generation is still the one the load began under: a fill
// that raced a write on any instance is dropped atomically, not just by this instance's view.
const STORE_IF_GENERATION = `if (redis.call('GET', KEYS[1]) or '0') == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3]) return 1 end return 0`

export class ResponseCache {
  readonly counts: ResponseCacheCounts = {
    hitL1: 0, hitL2: 0, revalidated: 0, miss: 0, stale: 0, invalidation: 0, invalidationHeard: 0,
    storeSkippedTooBig: 0, storeSkippedInvalidated: 0, storeSkippedShape: 0, redisError: 0, loads: 0, generationReads: 0,
  }
  readonly #maxStaleMs: number
  readonly #changeFeedMaxStaleMs: number
  readonly #maxEntryBytes: number
  readonly #onInvalidated: (cause: CacheInvalidationCause) => void
  readonly #onStoreSkipped: (reason: 'too-big' | 'invalidated' | 'shape', routeKey: string) => void
  readonly #keyPrefix: string
  readonly #channel: string
  readonly #l1: LRUCache<string, Entry>
  readonly #tenants: TenantGenerations
  readonly #sealer: BodySealer | undefined
  readonly #flights = new Map<string, Flight>()
  // One revalidation per stale entry, however many lookups find it at once.
  readonly #revalidations = new WeakMap<Entry, Promise<boolean>>()
  readonly #generationReads = new WeakMap<TenantGeneration, GenerationReads>()
  // 16 concurrent hits of one page reuse their copies; 64 MiB of idle copies at most (answer-copies.ts says why).
  readonly #copies = new AnswerCopies({ maxIdleBytes: 64 * 1024 * 1024, maxIdlePerTemplate: 16 })
  readonly #redis: Redis | undefined
  readonly #ownsRedis: boolean
  readonly #subscriber: Redis | undefined
  #subscribed = false

  constructor(options: ResponseCacheOptions) {
    const { l1MaxBytes, maxEntryBytes, maxStaleMs, changeFeedMaxStaleMs, redisCommandTimeoutMs, keyPrefix } = options
    this.#maxStaleMs = maxStaleMs
    this.#changeFeedMaxStaleMs = Math.max(maxStaleMs, changeFeedMaxStaleMs)
    this.#onInvalidated = options.onInvalidated ?? (() => {})
    this.#onStoreSkipped = options.onStoreSkipped ?? (() => {})
    this.#maxEntryBytes = maxEntryBytes
    this.#keyPrefix = keyPrefix
    this.#channel = `${keyPrefix}invalidated`
    this.#tenants = new TenantGenerations(new RedisKeyHasher(options.keySecret))
    this.#sealer = options.bodyKey === undefined ? undefined : new BodySealer(options.bodyKey)
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
        this.#onInvalidated('redis-lost')
      }, onError)
    })
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.#channel) return
      const news = message === EVERYONE ? this.#tenants.forgetRedis() > 0 : this.#tenants.heard(message)
      if (news) {
        this.counts.invalidationHeard++
        this.#onInvalidated('peer')
      }
    })
    this.#redis = redis
    this.#subscriber = subscriber
  }

  /** Whether the shared tier is in use now (connected and listening for invalidations). */
  get l2Available(): boolean {
    return this.#subscribed && this.#redis!.status === 'ready'
  }

  /** The cached answer with fresh timestamps, or undefined on a miss. Never throws for Redis. */
  async get(tenantId: string, routeKey: string, trustChangeFeed = false): Promise<Buffer | undefined> {
    return (await this.lookup(tenantId, routeKey, trustChangeFeed)).body
  }

  /**
   * Like get, saying where the answer came from. While Redis is in use the tenant's generation is
   * confirmed there first: a write through another instance voids our L1 entry even before its
   * message arrives here, so a client that wrote through A and reads through B sees its write.
   *
   * With `revalidate`, an L1 entry past its bound whose load left a validator is not thrown away:
   * when the database is provably in the state the entry was read from (revalidate says so, and no
   * write was seen meanwhile), the entry is served and its bound starts again from the moment the
   * check began. A cheap query instead of rebuilding a page that has not changed.
   */
  async lookup(tenantId: string, routeKey: string, trustChangeFeed = false, revalidate?: Revalidate): Promise<CacheLookup> {
    const tenant = this.#tenants.of(tenantId)
    const key = tenant.hash + ':' + routeKey
    const shared = this.l2Available && (await this.#confirmGeneration(tenant))
    const entry = this.#l1.get(key)
    let stale = false
    if (entry !== undefined) {
      if (entry.epoch === tenant.epoch) {
        if (this.#fresh(tenant, entry.loadStartedAt, trustChangeFeed)) {
          this.counts.hitL1++
          return { body: this.#render(entry.template), outcome: 'hit-l1' }
        }
        if (revalidate !== undefined && entry.validator !== undefined && (await this.#revalidate(tenant, key, entry, revalidate))) {
          this.counts.revalidated++
          return { body: this.#render(entry.template), outcome: 'revalidated' }
        }
        stale = true
      }
      // A load may have replaced it while we asked the database.
      if (this.#l1.peek(key) === entry) this.#l1.delete(key)
    }
    if (!shared) return this.#missed(stale)
    const epoch = tenant.epoch
    const record = await this.#readL2(tenant, routeKey)
    const decoded = record === undefined ? undefined : decodeRecord(record)
    if (decoded === undefined) return this.#missed(stale)
    const { loadStartedAt, template } = decoded
    if (!this.#fresh(tenant, loadStartedAt, trustChangeFeed)) return this.#missed(true)
    // Read before an invalidation landed: fine to answer (the read overlapped the write), not to keep.
    if (tenant.epoch === epoch) this.#l1.set(key, { template, loadStartedAt, epoch })
    this.counts.hitL2++
    return { body: this.#render(template), outcome: 'hit-l2' }
  }

  /**
   * Runs `load` once for any number of concurrent callers of one key (a caller after an invalidation
   * starts its own), stores the answer unless it is too big or a write was seen since the load began,
   * and returns the answer (undefined when `load` declined). A load's rejection reaches its callers.
   */
  async fill(tenantId: string, routeKey: string, load: () => Promise<Loaded | undefined>, trustChangeFeed = false): Promise<Buffer | undefined> {
    const tenant = this.#tenants.of(tenantId)
    const key = tenant.hash + ':' + routeKey
    const flight = this.#flights.get(key)
    // Joined only while young enough: a load begun more than maxStaleMs ago (a slow query on a busy
    // server) may miss a change committed after it began, which this caller must see.
    if (flight !== undefined && flight.epoch === tenant.epoch && this.#fresh(tenant, flight.startedAt, trustChangeFeed)) {
      return this.#answerOf(await flight.done)
    }
    // A load may have finished while this caller's lookup waited on Redis: take its entry, not a new query.
    const entry = this.#l1.get(key)
    if (entry !== undefined && entry.epoch === tenant.epoch && this.#fresh(tenant, entry.loadStartedAt, trustChangeFeed)) {
      return this.#render(entry.template)
    }
    this.counts.loads++
    const started: Flight = { epoch: tenant.epoch, startedAt: Date.now(), done: this.#loadAndStore(tenant, key, routeKey, load, trustChangeFeed) }
    this.#flights.set(key, started)
    try {
      return this.#answerOf(await started.done)
    } finally {
      if (this.#flights.get(key) === started) this.#flights.delete(key)
    }
  }

  /** A write for this tenant went through: void its entries here at once and on every instance. */
  async invalidateTenant(tenantId: string, cause: CacheInvalidationCause = 'write'): Promise<void> {
    const tenant = this.#tenants.of(tenantId)
    this.#tenants.bump(tenant)
    this.counts.invalidation++
    this.#onInvalidated(cause)
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

  /**
   * A write went through whose tenant cannot be told (credentials the proxy could not verify, ArzSw
   * away): void every tenant's entries here and, through Redis, every entry any instance stored.
   */
  async invalidateEverything(): Promise<void> {
    this.#tenants.bumpAll()
    this.counts.invalidation++
    this.#onInvalidated('write')
    if (!this.l2Available) return
    const redis = this.#redis!
    try {
      // Every tenant that ever stored an entry is in this set (see #loadAndStore).
      for (const hash of await redis.smembers(this.#tenantsKey)) {
        await redis.incr(`${this.#keyPrefix}g:{${hash}}`)
      }
      await redis.publish(this.#channel, EVERYONE)
    } catch {
      this.counts.redisError++
    }
  }

  /** The tenant's change feed runs without a gap since `since` (Date.now() before its slot was made). */
  followingChanges(tenantId: string, since: number): void {
    this.#tenants.of(tenantId).followedSince = since
  }

  /** A commit in the tenant's database, heard on its change feed. */
  async changed(tenantId: string): Promise<void> {
    await this.invalidateTenant(tenantId, 'cdc')
  }

  /** The tenant's change feed broke: changes may have been missed, so what it vouched for goes. */
  async lostChanges(tenantId: string): Promise<void> {
    this.#tenants.of(tenantId).followedSince = undefined
    await this.invalidateTenant(tenantId, 'gap')
  }

  /**
   * An answer this cache gave out has been written to the client and nobody holds it any more: its
   * memory may serve the next hit. Anything else is ignored, so any answer may be passed.
   */
  recycle(body: Buffer): void {
    this.#copies.give(body)
  }

  async close(): Promise<void> {
    this.#l1.clear()
    this.#copies.clear()
    this.#subscriber?.disconnect()
    if (this.#ownsRedis) this.#redis!.disconnect()
  }

  async #loadAndStore(tenant: TenantGeneration, key: string, routeKey: string, load: () => Promise<Loaded | undefined>, trustChangeFeed: boolean): Promise<Buffer | AnswerTemplate | undefined> {
    // The generation is read before the load begins: every write whose INCR Redis saw by then is in
    // the database state the load reads, so storing under that generation is exact.
    if (tenant.redisGeneration === undefined && this.l2Available) await this.#readGeneration(tenant)
    const epoch = tenant.epoch
    const generation = tenant.redisGeneration
    const loadStartedAt = Date.now()
    const loaded = await load()
    if (loaded === undefined) return undefined
    const body = Buffer.isBuffer(loaded) ? loaded : loaded.body
    const validator = Buffer.isBuffer(loaded) ? undefined : loaded.validator
    if (body.length > this.#maxEntryBytes) {
      this.counts.storeSkippedTooBig++
      this.#onStoreSkipped('too-big', routeKey)
      return body
    }
    let template: AnswerTemplate
    try {
      template = !Buffer.isBuffer(loaded) && loaded.timestampFree === true ? { bytes: Buffer.from(body), slots: new Uint32Array(0) } : templateFromBody(body)
    } catch {
      this.counts.storeSkippedShape++
      this.#onStoreSkipped('shape', routeKey)
      return body
    }
    if (tenant.epoch !== epoch) {
      this.counts.storeSkippedInvalidated++
      this.#onStoreSkipped('invalidated', routeKey)
      return template
    }
    const bound = trustChangeFeed && this.#followedBefore(tenant, loadStartedAt) ? this.#changeFeedMaxStaleMs : this.#maxStaleMs
    const lifetime = bound - (Date.now() - loadStartedAt)
    if (lifetime <= 0) return template
    this.#l1.set(key, { template, loadStartedAt, epoch, validator })
    if (generation !== undefined && this.l2Available) {
      // Not awaited: the client never waits on Redis (docs/architecture.md invariant 4). The tenant goes
      // into the set invalidateEverything walks before its entry exists (one connection keeps order).
      this.#redis!.sadd(this.#tenantsKey, tenant.hash).catch(() => {
        this.counts.redisError++
      })
      const entryKey = this.#entryKey(tenant, generation, routeKey)
      const record = encodeRecord(template, loadStartedAt)
      this.#redis!.eval(STORE_IF_GENERATION, 2, this.#generationKey(tenant), entryKey,
        String(generation), this.#sealer === undefined ? record : this.#sealer.seal(record, entryKey), lifetime).catch(() => {
        this.counts.redisError++
      })
    }
    return template
  }

  async #readL2(tenant: TenantGeneration, routeKey: string): Promise<Buffer | undefined> {
    const redis = this.#redis!
    if (tenant.redisGeneration === undefined) return undefined
    try {
      const entryKey = this.#entryKey(tenant, tenant.redisGeneration!, routeKey)
      const stored = (await redis.getBuffer(entryKey)) ?? undefined
      // A record not sealed with our key under this name (an instance without encryption, another key) is a miss.
      return stored === undefined || this.#sealer === undefined ? stored : this.#sealer.open(stored, entryKey)
    } catch {
      this.counts.redisError++
      return undefined
    }
  }

  /**
   * The tenant's generation as Redis holds it now, read by a GET sent after this call began, so a write
   * whose INCR finished before the lookup began is seen (read-your-writes across instances). Concurrent
   * lookups share GETs: one that finds a read in flight cannot use it (it may have been sent before
   * the caller's write), so it waits for the next read, sent when that one answers, together with
   * every other lookup that arrived meanwhile. Under load a tenant then costs Redis one GET per round
   * trip instead of one per request; the profile of the cached poll had 7 % of the proxy's CPU in those
   * GETs (2026-11-23).
   */
  #confirmGeneration(tenant: TenantGeneration): Promise<boolean> {
    let reads = this.#generationReads.get(tenant)
    if (reads === undefined) {
      reads = { inFlight: undefined, next: undefined }
      this.#generationReads.set(tenant, reads)
    }
    const state = reads
    const send = (): Promise<boolean> => {
      const read = this.#readGeneration(tenant)
      state.inFlight = read
      void read.finally(() => {
        if (state.inFlight === read) state.inFlight = undefined
      })
      return read
    }
    if (state.inFlight === undefined) return send()
    if (state.next === undefined) {
      state.next = state.inFlight.then(() => {
        // From here on, newcomers wait for the read after this one.
        state.next = undefined
        return send()
      })
    }
    return state.next
  }

  /** Learns the tenant's generation from Redis; false when Redis failed or an invalidation overtook the read. */
  async #readGeneration(tenant: TenantGeneration): Promise<boolean> {
    const epoch = tenant.epoch
    this.counts.generationReads++
    try {
      const stored = await this.#redis!.get(this.#generationKey(tenant))
      // An invalidation while we asked would make what we read older than what we know.
      if (tenant.epoch !== epoch) return false
      // A generation beyond what we knew is an invalidation whose message has not reached us yet.
      if (this.#tenants.confirm(tenant, stored === null ? 0 : Number(stored))) {
        this.counts.invalidationHeard++
        this.#onInvalidated('peer')
      }
      return true
    } catch {
      this.counts.redisError++
      return false
    }
  }

  #render(template: AnswerTemplate): Buffer {
    return this.#copies.render(template)
  }

  #answerOf(done: Buffer | AnswerTemplate | undefined): Buffer | undefined {
    return done === undefined || Buffer.isBuffer(done) ? done : this.#render(done)
  }

  /** Renews `entry` when its validator still holds; coalesced per entry. */
  #revalidate(tenant: TenantGeneration, key: string, entry: Entry, revalidate: Revalidate): Promise<boolean> {
    let running = this.#revalidations.get(entry)
    if (running === undefined) {
      running = (async () => {
        const epoch = tenant.epoch
        // Before the question is sent: the state confirmed is at least this recent.
        const checkedAt = Date.now()
        let unchanged: boolean
        try {
          unchanged = await revalidate(entry.validator!)
        } catch {
          return false
        }
        // A write seen meanwhile, or a newer entry stored: this one is not renewed.
        // A slow check may itself have outlived the bound: then what it confirmed is too old to serve.
        if (!unchanged || tenant.epoch !== epoch || this.#l1.peek(key) !== entry || Date.now() - checkedAt >= this.#maxStaleMs) return false
        this.#l1.set(key, { ...entry, loadStartedAt: checkedAt })
        return true
      })()
      this.#revalidations.set(entry, running)
    }
    return running
  }

  #fresh(tenant: TenantGeneration, loadStartedAt: number, trustChangeFeed: boolean): boolean {
    const age = Date.now() - loadStartedAt
    if (age < this.#maxStaleMs) return true
    return trustChangeFeed && age < this.#changeFeedMaxStaleMs && this.#followedBefore(tenant, loadStartedAt)
  }

  /** Whether the change feed was already following, without a gap since, when this load began. */
  #followedBefore(tenant: TenantGeneration, loadStartedAt: number): boolean {
    return tenant.followedSince !== undefined && tenant.followedSince <= loadStartedAt
  }

  #missed(stale: boolean): CacheLookup {
    if (stale) {
      this.counts.stale++
      return STALE
    }
    this.counts.miss++
    return MISS
  }

  get #tenantsKey(): string {
    return `${this.#keyPrefix}tenants`
  }

  // The tenant's hash in braces: both keys of a tenant land in one Redis Cluster slot, as the store script needs.
  #generationKey(tenant: TenantGeneration): string {
    return `${this.#keyPrefix}g:{${tenant.hash}}`
  }

  #entryKey(tenant: TenantGeneration, generation: number, routeKey: string): string {
    // `r2`: records whose templates have fixed-size holes (answer-template.ts); an `r:` record of an
    // older version, still in Redis during a rolling update, is never read as one. `r2s`: sealed
    // records; an instance without the body key never reads one as a clear record, nor the reverse.
    return `${this.#keyPrefix}${this.#sealer === undefined ? 'r2' : 'r2s'}:{${tenant.hash}}:${generation}:${routeKey}`
  }
}

/** The pub/sub message of invalidateEverything (a tenant's message is `<hash>:<generation>`). */
const EVERYONE = '*'
