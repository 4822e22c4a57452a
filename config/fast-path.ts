// The fast paths' settings as their components receive them: typed and complete, from the one option
// table (config/schema.ts: `fastPath.*` plus the proxy options the answers echo). Validated once, by
// config/load.ts; the fast-path factory, the cache, the change feeds, the pools and the verifier take
// them as given.
import type { RouteId } from '../core/route-ids.ts'
import { ConfigError, loadConfig, type Config } from './load.ts'
import type { CacheMode } from './schema.ts'

export { CACHE_MODES, type CacheMode } from './schema.ts'

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

export interface CacheSettings {
  /** The routes that keep answers (the schema's default names them); a route not named keeps none. */
  readonly routes: Readonly<Partial<Record<RouteId, CacheMode>>>
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

/** The tenant pools' settings (tenants/tenant-pools.ts takes them as its options). */
export interface TenantPoolSettings {
  /** Connections per tenant pool (one pool per distinct tenant database). */
  readonly maxSize: number
  /** Tenant pools kept at once; the least recently used idle pool is closed beyond this. */
  readonly maxPools: number
  /** A pool unused this long is closed; also pg's idle timeout for single connections. */
  readonly idleTimeoutMs: number
  /** Connecting (and waiting for a free connection) may take this long before the request defers. */
  readonly connectTimeoutMs: number
  /** PostgreSQL statement_timeout for the fast path's queries. */
  readonly statementTimeoutMs: number
  /**
   * Send the session options DateStyle=ISO, jit=off, random_page_cost=1.1 at connect. PgBouncer refuses
   * the `options` startup parameter unless told to ignore it: then false (dates in a non-ISO server
   * DateStyle are not recognised and such requests defer, never answer wrongly).
   */
  readonly sessionOptions: boolean
}

/** The `fastPath.*` options (config.fastPath); each one's meaning is its description in config/schema.ts. */
export interface FastPathConfig {
  readonly authCacheTtlMs: number
  readonly userRowRefreshMs: number
  readonly credentialWatchMs: number
  /** With redisUrl: verified BCrypt outcomes shared through Redis (auth/shared-outcomes.ts). */
  readonly authSharedOutcomes: boolean
  readonly authRedisTimeoutMs: number
  /** `cores`: one per available core; 0 runs BCrypt on the event loop. */
  readonly bcryptWorkers: number | 'cores'
  readonly bcryptMaxQueued: number
  readonly bcryptQueueTimeoutMs: number
  readonly pool: TenantPoolSettings
  readonly preparedStatements: boolean
  readonly countCache: boolean
  readonly fastPathMaxPageSize: number
  readonly xmlMemoBytes: number
  readonly circuitBreaker: CircuitBreakerSettings
  readonly cache: CacheSettings
}

/** What the fast-path factory takes: the `fastPath.*` options and the proxy options of the same meaning. */
export interface FastPathSettings extends FastPathConfig {
  /** postgres:// URL of the ArzSw management database (users, tenants, connection strings). */
  readonly arzswUrl: string
  /** The legacy's MaxPageSize: pageSize is clamped to it and the clamped value echoed (docs/legacy-contract.md §4). */
  readonly maxPageSize: number
  /** The legacy's Environment setting, echoed as `environment` (docs/legacy-contract.md §4). */
  readonly environment: string
  /** Echoed in every item as `avsSystem` (docs/legacy-contract.md §4). */
  readonly avsSystem: AvsSystem
  /** Redis shared by the instances (redisUrl); without it the cache is per instance. */
  readonly redisUrl: string | undefined
  readonly redisKeyPrefix: string
  readonly redisKeySecret: string
  /** AES-256-GCM key (32 bytes, base64) of cached bodies in Redis (redisBodyKey); unset: clear. */
  readonly redisBodyKey: string | undefined
}

/** The fast paths' settings of a loaded configuration; the fast paths need arzswUrl. */
export function fastPathSettingsFrom(config: Config): FastPathSettings {
  if (config.arzswUrl === undefined) throw new ConfigError(['arzswUrl (ARZSW_URL): the fast paths need the ArzSw database; unset, every request goes to the legacy'])
  return Object.freeze({
    ...config.fastPath,
    arzswUrl: config.arzswUrl,
    maxPageSize: config.maxPageSize,
    environment: config.environment,
    avsSystem: config.avsSystem,
    redisUrl: config.redisUrl,
    redisKeyPrefix: config.redisKeyPrefix,
    redisKeySecret: config.redisKeySecret,
    redisBodyKey: config.redisBodyKey,
  })
}

type Partially<T> = { readonly [K in keyof T]?: T[K] extends object ? Partial<T[K]> : T[K] }

/** Some of the settings (tests, bench): the rest are filled in as the test environment's config has them. */
export type FastPathSettingsInput = Partially<Omit<FastPathSettings, 'arzswUrl'>> & { readonly arzswUrl: string }

/** Names in FastPathSettings that are proxy options (top level), not `fastPath.*`. */
const PROXY_OPTIONS = new Set(['arzswUrl', 'maxPageSize', 'environment', 'avsSystem', 'redisUrl', 'redisKeyPrefix', 'redisKeySecret', 'redisBodyKey'])

/**
 * Complete fast-path settings from some of them, for code that builds fast paths without a proxy
 * (tests, bench): through the same schema and checks as the proxy's own (`config/test.json` plus
 * `input`), so a bad or unknown one throws the ConfigError the proxy would stop with.
 */
export function fastPathSettings(input: FastPathSettingsInput): FastPathSettings {
  const proxy: Record<string, unknown> = {}
  const fastPath: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue
    if (PROXY_OPTIONS.has(key)) proxy[key] = value
    else fastPath[key] = value
  }
  return fastPathSettingsFrom(loadConfig({ env: { FASTPATH_ENV: 'test' }, overrides: { ...proxy, fastPath } }))
}
