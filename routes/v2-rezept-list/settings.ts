// The fast paths' settings for GET /v2/rezept and /v2/rezept/status: their type, defaults and a description of each.
import { ROUTE_IDS, type RouteId } from '../contract.ts'
import type { TenantPoolOptions } from '../../tenants/tenant-pools.ts'
import { DEV_REDIS_KEY_SECRET } from '../../cache/redis-secrets.ts'

export interface AvsSystem {
  readonly manufacturer: string
  readonly name: string
  readonly version: string
}

export interface CircuitBreakerSettings {
  /** Consecutive failures of one tenant database that open its circuit. */
  readonly failureThreshold: number
  /** How long an open circuit sends that tenant's requests to the legacy before one trial request. */
  readonly openMs: number
}

/**
 * Per route: `off` (never cached), `ttl` (an entry lives at most maxStaleMs after the database state it
 * reflects), `cdc` (as ttl, and up to changeFeedMaxStaleMs while the tenant's change feed follows).
 */
export type CacheMode = 'off' | 'ttl' | 'cdc'
export const CACHE_MODES: readonly CacheMode[] = ['off', 'ttl', 'cdc']

export interface CacheSettings {
  readonly routes: Readonly<Record<RouteId, CacheMode>>
  /** ttl: how long after its load began an entry may be served (writes the proxy does not see). */
  readonly maxStaleMs: number
  /** cdc: the bound while the change feed follows without a gap (every change voids entries anyway). */
  readonly changeFeedMaxStaleMs: number
  readonly l1MaxBytes: number
  /** Answers larger than this are not cached. */
  readonly maxEntryBytes: number
  /** A Redis command slower than this is given up and the request goes on without it. */
  readonly redisCommandTimeoutMs: number
  /** The logical-replication publication cdc mode follows in each tenant database (docs/legacy-contract.md §11). */
  readonly publication: string
}

/** The pool settings are the pool registry's own options (tenants/tenant-pools.ts). */
export type TenantPoolSettings = TenantPoolOptions

export interface FastPathSettings {
  /** postgres:// URL of the ArzSw management database (users, tenants, connection strings). */
  readonly arzswUrl: string
  /** The legacy's MaxPageSize setting: pageSize is clamped to it and the clamped value echoed (docs/legacy-contract.md §4). */
  readonly maxPageSize: number
  /** The legacy's Environment setting, echoed as `environment` (docs/legacy-contract.md §4). */
  readonly environment: string
  /** Echoed in every item as `avsSystem` (docs/legacy-contract.md §4). */
  readonly avsSystem: AvsSystem
  /** How long a verified (or refused) credential is trusted without BCrypt. */
  readonly authCacheTtlMs: number
  /** How often a user's ArzSw row is re-read; keep it below authCacheTtlMs. */
  readonly userRowRefreshMs: number
  /** Longest a credential change in ArzSw goes unseen: how often ArzSw's version is looked at (ms). */
  readonly credentialWatchMs: number
  /** Worker threads that run BCrypt; 0 runs it on the event loop; `cores`: one per available core. */
  readonly bcryptWorkers: number | 'cores'
  /** BCrypt comparisons waiting for a thread at most; more defer to the legacy (`auth-busy`). */
  readonly bcryptMaxQueued: number
  /** A BCrypt comparison not begun within this defers to the legacy (`auth-busy`), ms. */
  readonly bcryptQueueTimeoutMs: number
  readonly pool: TenantPoolSettings
  /** Named prepared statements (true) or plain parameterised queries (false, for PgBouncer transaction mode). */
  readonly preparedStatements: boolean
  /** Reuse a tenant's per-type counts while PostgreSQL's snapshot is unchanged (exact; see count-cache.ts). */
  readonly countCache: boolean
  /** A clamped pageSize above this is left to the legacy, bounding the fast path's memory per request. */
  readonly fastPathMaxPageSize: number
  /** Bytes of escaped xmlRequest texts kept for the next answer; 0 keeps none (escaped-text-memo.ts). */
  readonly xmlMemoBytes: number
  readonly circuitBreaker: CircuitBreakerSettings
  readonly cache: CacheSettings
  /** Redis shared by the instances (the proxy's redisUrl); without it the cache is per instance. */
  readonly redisUrl: string | undefined
  /** Prefix of the cache's Redis keys and channel (the proxy's redisKeyPrefix). */
  readonly redisKeyPrefix: string
  /** Secret of the keyed hash naming tenants in Redis (the proxy's redisKeySecret). */
  readonly redisKeySecret: string
  /** AES-256-GCM key (32 bytes, base64) of cached bodies in Redis (the proxy's redisBodyKey); unset: clear. */
  readonly redisBodyKey: string | undefined
}

export const FAST_PATH_DEFAULTS: Omit<FastPathSettings, 'arzswUrl'> = Object.freeze({
  maxPageSize: 500,
  environment: 'Development',
  avsSystem: Object.freeze({ manufacturer: 'GfAL', name: 'ArzTi', version: '3.0' }),
  authCacheTtlMs: 60_000,
  userRowRefreshMs: 10_000,
  credentialWatchMs: 1000,
  bcryptWorkers: 'cores',
  bcryptMaxQueued: 32,
  bcryptQueueTimeoutMs: 500,
  pool: Object.freeze({ maxSize: 10, maxPools: 50, idleTimeoutMs: 60_000, connectTimeoutMs: 2_000, statementTimeoutMs: 5_000, sessionOptions: true }),
  preparedStatements: true,
  countCache: true,
  fastPathMaxPageSize: 100_000,
  xmlMemoBytes: 64 * 1024 * 1024,
  circuitBreaker: Object.freeze({ failureThreshold: 5, openMs: 10_000 }),
  cache: Object.freeze({
    routes: Object.freeze({ 'v2.rezept.list': 'ttl', 'v2.rezept.pharmacy': 'ttl' } as const),
    maxStaleMs: 2000,
    changeFeedMaxStaleMs: 60_000,
    l1MaxBytes: 256 * 1024 * 1024,
    maxEntryBytes: 16 * 1024 * 1024,
    redisCommandTimeoutMs: 100,
    publication: 'fastpath_changes',
  }),
  redisUrl: undefined,
  redisKeyPrefix: 'fastpath:',
  redisKeySecret: DEV_REDIS_KEY_SECRET,
  redisBodyKey: undefined,
})

/** One line per setting, keyed by its dotted path, for the configuration schema. */
export const FAST_PATH_SETTING_DESCRIPTIONS: Readonly<Record<string, string>> = Object.freeze({
  arzswUrl: 'postgres:// URL of the ArzSw management database (required)',
  maxPageSize: 'the legacy MaxPageSize: pageSize is clamped to it and echoed clamped (docs/legacy-contract.md §4); must equal the legacy setting',
  environment: 'the legacy Environment setting echoed in answers (Development, Test, Staging, Live); must equal the legacy setting',
  'avsSystem.manufacturer': 'avsSystem.manufacturer echoed in every item',
  'avsSystem.name': 'avsSystem.name echoed in every item',
  'avsSystem.version': 'avsSystem.version echoed in every item',
  authCacheTtlMs: 'ms a verified or refused credential is trusted without running BCrypt again',
  userRowRefreshMs: 'ms between re-reads of a user\'s ArzSw row (password, tenant) when nothing in ArzSw changed; at most authCacheTtlMs',
  credentialWatchMs: 'ms a change in ArzSw (a password, a removed login, a tenant move, a connection string) may go unseen: a request finding the last look at ArzSw\'s version older than this waits for a new one (one small query, at most one per period per instance), and a changed version makes every user row be read again',
  bcryptWorkers: 'worker threads that run BCrypt comparisons, so they never hold up the event loop: `"cores"` (one per available core, os.availableParallelism), a number, or 0 to run them on the event loop (no queue bounds then)',
  bcryptMaxQueued: 'BCrypt comparisons waiting for a thread at most (besides at most 2 per login, logins served in turn); one more is deferred to the legacy at once (reason auth-busy), which checks the password itself',
  bcryptQueueTimeoutMs: 'ms a BCrypt comparison may wait for a thread; not begun by then, its request is deferred to the legacy (reason auth-busy)',
  'pool.maxSize': 'connections per tenant database pool',
  'pool.maxPools': 'tenant pools kept open at once; the least recently used is closed beyond it',
  'pool.idleTimeoutMs': 'ms after which an unused pool (and an idle connection) is closed',
  'pool.connectTimeoutMs': 'ms to connect or wait for a free connection before deferring to the legacy',
  'pool.statementTimeoutMs': 'PostgreSQL statement_timeout of fast-path queries (tenant and ArzSw), ms; the client stops waiting for an answer after twice this (a slow network), deferring with db-timeout (auth-unavailable for ArzSw)',
  'pool.sessionOptions': 'send DateStyle=ISO, jit=off, random_page_cost=1.1 as startup options; false behind PgBouncer',
  preparedStatements: 'use named prepared statements; false for PgBouncer in transaction mode',
  countCache: 'reuse per-type counts while the tenant cluster\'s snapshot is unchanged (no commit since); exact, false to always count',
  fastPathMaxPageSize: 'a clamped pageSize above this is left to the legacy',
  xmlMemoBytes: 'bytes of escaped xmlRequest texts kept for reuse, each used only while the row\'s text is unchanged (exact); 0 escapes every text anew',
  'circuitBreaker.failureThreshold': 'consecutive database failures of a tenant that open its circuit',
  'circuitBreaker.openMs': 'ms an open circuit sends the tenant to the legacy before a trial request',
  'cache.routes': 'cache mode per route id: off, ttl (default) or cdc, e.g. {"v2.rezept.list":"cdc"}',
  'cache.maxStaleMs': 'ttl: ms after its load began an answer may still be served; bounds how late a write the proxy does not see (imports, the ARZ check) shows',
  'cache.changeFeedMaxStaleMs': 'cdc: ms an answer may be served while the tenant\'s change feed follows without a gap',
  'cache.l1MaxBytes': 'bytes of answers kept in this process',
  'cache.maxEntryBytes': 'answers larger than this are not cached',
  'cache.redisCommandTimeoutMs': 'ms a cache command to Redis may take before the request goes on without Redis',
  'cache.publication': 'cdc: the logical-replication publication followed in each tenant database',
  redisUrl: 'Redis shared by the instances for the cache (set from the proxy\'s redisUrl)',
  redisKeyPrefix: 'prefix of the cache\'s Redis keys (set from the proxy\'s redisKeyPrefix)',
  redisKeySecret: 'secret of the keyed hash naming tenants in Redis (set from the proxy\'s redisKeySecret)',
  redisBodyKey: 'AES-256-GCM key of cached bodies in Redis (set from the proxy\'s redisBodyKey); unset: in clear',
})

export type FastPathSettingsInput = Partial<Omit<FastPathSettings, 'avsSystem' | 'pool' | 'circuitBreaker' | 'cache'>> & {
  readonly arzswUrl: string
  readonly cache?: Partial<Omit<CacheSettings, 'routes'>> & { readonly routes?: Partial<Record<RouteId, CacheMode>> }
  readonly avsSystem?: Partial<AvsSystem>
  readonly pool?: Partial<TenantPoolSettings>
  readonly circuitBreaker?: Partial<CircuitBreakerSettings>
}

/** Fills every missing setting with its default, checks the numbers, and freezes the result. */
export function fastPathSettings(input: FastPathSettingsInput): FastPathSettings {
  rejectUnknownKeys(input as unknown as Record<string, unknown>)
  const settings: FastPathSettings = Object.freeze({
    ...FAST_PATH_DEFAULTS,
    ...input,
    avsSystem: Object.freeze({ ...FAST_PATH_DEFAULTS.avsSystem, ...input.avsSystem }),
    pool: Object.freeze({ ...FAST_PATH_DEFAULTS.pool, ...input.pool }),
    circuitBreaker: Object.freeze({ ...FAST_PATH_DEFAULTS.circuitBreaker, ...input.circuitBreaker }),
    cache: Object.freeze({
      ...FAST_PATH_DEFAULTS.cache,
      ...input.cache,
      routes: Object.freeze({ ...FAST_PATH_DEFAULTS.cache.routes, ...input.cache?.routes }),
    }),
  })
  const positive: Array<[string, number]> = [
    ['maxPageSize', settings.maxPageSize], ['authCacheTtlMs', settings.authCacheTtlMs],
    ['userRowRefreshMs', settings.userRowRefreshMs], ['credentialWatchMs', settings.credentialWatchMs], ['pool.maxSize', settings.pool.maxSize],
    ['pool.maxPools', settings.pool.maxPools], ['pool.idleTimeoutMs', settings.pool.idleTimeoutMs],
    ['pool.connectTimeoutMs', settings.pool.connectTimeoutMs], ['pool.statementTimeoutMs', settings.pool.statementTimeoutMs],
    ['fastPathMaxPageSize', settings.fastPathMaxPageSize], ['circuitBreaker.failureThreshold', settings.circuitBreaker.failureThreshold],
    ['circuitBreaker.openMs', settings.circuitBreaker.openMs], ['cache.maxStaleMs', settings.cache.maxStaleMs],
    ['cache.changeFeedMaxStaleMs', settings.cache.changeFeedMaxStaleMs], ['cache.l1MaxBytes', settings.cache.l1MaxBytes],
    ['cache.maxEntryBytes', settings.cache.maxEntryBytes], ['cache.redisCommandTimeoutMs', settings.cache.redisCommandTimeoutMs],
    ['bcryptMaxQueued', settings.bcryptMaxQueued], ['bcryptQueueTimeoutMs', settings.bcryptQueueTimeoutMs],
  ]
  for (const [name, value] of positive) {
    if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`fast path setting ${name} must be a positive integer, got ${String(value)}`)
  }
  if (settings.bcryptWorkers !== 'cores' && (!Number.isSafeInteger(settings.bcryptWorkers) || settings.bcryptWorkers < 0 || settings.bcryptWorkers > 64)) throw new Error(`fast path setting bcryptWorkers must be "cores" or an integer from 0 to 64, got ${String(settings.bcryptWorkers)}`)
  if (!Number.isSafeInteger(settings.xmlMemoBytes) || settings.xmlMemoBytes < 0) throw new Error(`fast path setting xmlMemoBytes must be a non-negative integer, got ${String(settings.xmlMemoBytes)}`)
  if (settings.maxPageSize > 2147483647) throw new Error('fast path setting maxPageSize must fit a 32-bit integer (the legacy\'s int)')
  if (settings.userRowRefreshMs > settings.authCacheTtlMs) {
    throw new Error('fast path setting userRowRefreshMs must not exceed authCacheTtlMs, or a changed password could outlive the cache bound')
  }
  for (const [name, value] of [['preparedStatements', settings.preparedStatements], ['countCache', settings.countCache], ['pool.sessionOptions', settings.pool.sessionOptions]] as const) {
    if (typeof value !== 'boolean') throw new Error(`fast path setting ${name} must be true or false, got ${String(value)}`)
  }
  for (const [name, value] of [['environment', settings.environment], ['avsSystem.manufacturer', settings.avsSystem.manufacturer],
    ['avsSystem.name', settings.avsSystem.name], ['avsSystem.version', settings.avsSystem.version]] as const) {
    if (typeof value !== 'string') throw new Error(`fast path setting ${name} must be a string`)
  }
  if (settings.cache.maxEntryBytes > settings.cache.l1MaxBytes) throw new Error('fast path setting cache.maxEntryBytes must not exceed cache.l1MaxBytes')
  for (const [routeId, mode] of Object.entries(settings.cache.routes)) {
    if (!(ROUTE_IDS as readonly string[]).includes(routeId)) throw new Error(`fast path setting cache.routes: unknown route id ${routeId}; accepted: ${ROUTE_IDS.join(', ')}`)
    if (!(CACHE_MODES as readonly string[]).includes(mode)) throw new Error(`fast path setting cache.routes.${routeId} must be one of ${CACHE_MODES.join(', ')}, got ${String(mode)}`)
  }
  for (const [name, value] of [['cache.publication', settings.cache.publication], ['redisKeyPrefix', settings.redisKeyPrefix]] as const) {
    if (typeof value !== 'string' || value === '') throw new Error(`fast path setting ${name} must be a non-empty string`)
  }
  if (settings.redisUrl !== undefined && (typeof settings.redisUrl !== 'string' || !/^rediss?:\/\//.test(settings.redisUrl))) throw new Error('fast path setting redisUrl must be a redis:// URL')
  if (typeof settings.arzswUrl !== 'string' || !/^postgres(ql)?:\/\//.test(settings.arzswUrl)) throw new Error('fast path setting arzswUrl must be a postgres:// URL')
  return settings
}

// A misspelt option would otherwise fall back to its default without a word.
function rejectUnknownKeys(input: Record<string, unknown>): void {
  const known = new Set(Object.keys(FAST_PATH_SETTING_DESCRIPTIONS))
  for (const [key, value] of Object.entries(input)) {
    if (key === 'avsSystem' || key === 'pool' || key === 'circuitBreaker' || key === 'cache') {
      if (value === undefined) continue
      if (typeof value !== 'object' || value === null) throw new Error(`fast path setting ${key} must be an object`)
      for (const inner of Object.keys(value)) {
        if (!known.has(`${key}.${inner}`)) throw new Error(`unknown fast path setting ${key}.${inner}; accepted: ${[...known].join(', ')}`)
      }
    } else if (!known.has(key)) {
      throw new Error(`unknown fast path setting ${key}; accepted: ${[...known].join(', ')}`)
    }
  }
}
