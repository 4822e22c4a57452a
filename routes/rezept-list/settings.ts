// The fast paths' settings for GET /v2/rezept and /v2/rezept/status: their type, defaults and a description of each.
import type { TenantPoolOptions } from '../fast-path/tenant-pools.ts'

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

/** The pool settings are the pool registry's own options (routes/fast-path/tenant-pools.ts). */
export type TenantPoolSettings = TenantPoolOptions

export interface FastPathSettings {
  /** postgres:// URL of the ArzSw management database (users, tenants, connection strings). */
  readonly arzswUrl: string
  /** The legacy's MaxPageSize setting: pageSize is clamped to it and the clamped value echoed (API.md §4). */
  readonly maxPageSize: number
  /** The legacy's Environment setting, echoed as `environment` (API.md §4). */
  readonly environment: string
  /** Echoed in every item as `avsSystem` (API.md §4). */
  readonly avsSystem: AvsSystem
  /** How long a verified (or refused) credential is trusted without BCrypt. */
  readonly authCacheTtlMs: number
  /** How often a user's ArzSw row is re-read; keep it below authCacheTtlMs. */
  readonly userRowRefreshMs: number
  readonly pool: TenantPoolSettings
  /** Named prepared statements (true) or plain parameterised queries (false, for PgBouncer transaction mode). */
  readonly preparedStatements: boolean
  /** Reuse a tenant's per-type counts while PostgreSQL's snapshot is unchanged (exact; see count-cache.ts). */
  readonly countCache: boolean
  /** A clamped pageSize above this is left to the legacy, bounding the fast path's memory per request. */
  readonly fastPathMaxPageSize: number
  readonly circuitBreaker: CircuitBreakerSettings
}

export const FAST_PATH_DEFAULTS: Omit<FastPathSettings, 'arzswUrl'> = Object.freeze({
  maxPageSize: 500,
  environment: 'Development',
  avsSystem: Object.freeze({ manufacturer: 'GfAL', name: 'ArzTi', version: '3.0' }),
  authCacheTtlMs: 60_000,
  userRowRefreshMs: 10_000,
  pool: Object.freeze({ maxSize: 10, maxPools: 50, idleTimeoutMs: 60_000, connectTimeoutMs: 2_000, statementTimeoutMs: 5_000, sessionOptions: true }),
  preparedStatements: true,
  countCache: true,
  fastPathMaxPageSize: 100_000,
  circuitBreaker: Object.freeze({ failureThreshold: 5, openMs: 10_000 }),
})

/** One line per setting, keyed by its dotted path, for the configuration schema. */
export const FAST_PATH_SETTING_DESCRIPTIONS: Readonly<Record<string, string>> = Object.freeze({
  arzswUrl: 'postgres:// URL of the ArzSw management database (required)',
  maxPageSize: 'the legacy MaxPageSize: pageSize is clamped to it and echoed clamped (API.md §4); must equal the legacy setting',
  environment: 'the legacy Environment setting echoed in answers (Development, Test, Staging, Live); must equal the legacy setting',
  'avsSystem.manufacturer': 'avsSystem.manufacturer echoed in every item',
  'avsSystem.name': 'avsSystem.name echoed in every item',
  'avsSystem.version': 'avsSystem.version echoed in every item',
  authCacheTtlMs: 'ms a verified or refused credential is trusted without running BCrypt again',
  userRowRefreshMs: 'ms between re-reads of a user\'s ArzSw row (password, tenant); at most authCacheTtlMs',
  'pool.maxSize': 'connections per tenant database pool',
  'pool.maxPools': 'tenant pools kept open at once; the least recently used is closed beyond it',
  'pool.idleTimeoutMs': 'ms after which an unused pool (and an idle connection) is closed',
  'pool.connectTimeoutMs': 'ms to connect or wait for a free connection before deferring to the legacy',
  'pool.statementTimeoutMs': 'PostgreSQL statement_timeout of fast-path queries, ms',
  'pool.sessionOptions': 'send DateStyle=ISO, jit=off, random_page_cost=1.1 as startup options; false behind PgBouncer',
  preparedStatements: 'use named prepared statements; false for PgBouncer in transaction mode',
  countCache: 'reuse per-type counts while the tenant cluster\'s snapshot is unchanged (no commit since); exact, false to always count',
  fastPathMaxPageSize: 'a clamped pageSize above this is left to the legacy',
  'circuitBreaker.failureThreshold': 'consecutive database failures of a tenant that open its circuit',
  'circuitBreaker.openMs': 'ms an open circuit sends the tenant to the legacy before a trial request',
})

export type FastPathSettingsInput = Partial<Omit<FastPathSettings, 'avsSystem' | 'pool' | 'circuitBreaker'>> & {
  readonly arzswUrl: string
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
  })
  const positive: Array<[string, number]> = [
    ['maxPageSize', settings.maxPageSize], ['authCacheTtlMs', settings.authCacheTtlMs],
    ['userRowRefreshMs', settings.userRowRefreshMs], ['pool.maxSize', settings.pool.maxSize],
    ['pool.maxPools', settings.pool.maxPools], ['pool.idleTimeoutMs', settings.pool.idleTimeoutMs],
    ['pool.connectTimeoutMs', settings.pool.connectTimeoutMs], ['pool.statementTimeoutMs', settings.pool.statementTimeoutMs],
    ['fastPathMaxPageSize', settings.fastPathMaxPageSize], ['circuitBreaker.failureThreshold', settings.circuitBreaker.failureThreshold],
    ['circuitBreaker.openMs', settings.circuitBreaker.openMs],
  ]
  for (const [name, value] of positive) {
    if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`fast path setting ${name} must be a positive integer, got ${String(value)}`)
  }
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
  if (typeof settings.arzswUrl !== 'string' || !/^postgres(ql)?:\/\//.test(settings.arzswUrl)) throw new Error('fast path setting arzswUrl must be a postgres:// URL')
  return settings
}

// A misspelt option would otherwise fall back to its default without a word.
function rejectUnknownKeys(input: Record<string, unknown>): void {
  const known = new Set(Object.keys(FAST_PATH_SETTING_DESCRIPTIONS))
  for (const [key, value] of Object.entries(input)) {
    if (key === 'avsSystem' || key === 'pool' || key === 'circuitBreaker') {
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
