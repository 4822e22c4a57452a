// The one table of every configuration option: name, type, default, env var, whether a reload may
// change it, and what it means. Loading, validation and the docs are all derived from this table.

export type OptionType =
  | { kind: 'string' }
  | { kind: 'url'; protocols: readonly string[] }
  | { kind: 'integer'; min: number; max: number }
  | { kind: 'boolean' }
  | { kind: 'choice'; values: readonly string[] }
  | { kind: 'flags' }
  /** A list of names: a JSON array of strings, or (env) comma-separated. */
  | { kind: 'names' }
  | { kind: 'object' }

export interface OptionSpec {
  /** Dotted path in the config file, e.g. `upstream.connectTimeoutMs`. */
  readonly name: string
  readonly type: OptionType
  /** `undefined` means "not set" (optional). */
  readonly default: unknown
  readonly env?: string
  /** A SIGHUP or POST /reload may change it while serving; otherwise a restart is needed. */
  readonly reloadable: boolean
  readonly description: string
}

const port = { kind: 'integer', min: 0, max: 65535 } as const
const ms = { kind: 'integer', min: 1, max: 3_600_000 } as const

export const OPTIONS: readonly OptionSpec[] = [
  { name: 'host', type: { kind: 'string' }, default: '127.0.0.1', env: 'HOST', reloadable: false, description: 'Address the client-facing listener binds to.' },
  { name: 'port', type: port, default: 8080, env: 'PORT', reloadable: false, description: 'Port of the client-facing listener (0 = any free port).' },
  { name: 'admin.host', type: { kind: 'string' }, default: '127.0.0.1', env: 'ADMIN_HOST', reloadable: false, description: 'Address of the admin listener. Without an admin token it is forced to loopback.' },
  { name: 'admin.port', type: port, default: 9091, env: 'ADMIN_PORT', reloadable: false, description: 'Port of the admin listener (flags, health, metrics).' },
  { name: 'admin.token', type: { kind: 'string' }, default: undefined, env: 'FASTPATH_ADMIN_TOKEN', reloadable: true, description: 'Bearer token the admin API requires. Without one the admin API listens on loopback only and needs no token.' },
  { name: 'legacyUrl', type: { kind: 'url', protocols: ['http:'] }, default: undefined, env: 'LEGACY_URL', reloadable: false, description: 'Base URL of the legacy ArzTi3Server. Unset: `npm start` runs the embedded demo.' },
  { name: 'arzswUrl', type: { kind: 'url', protocols: ['postgres:', 'postgresql:'] }, default: undefined, env: 'ARZSW_URL', reloadable: false, description: 'PostgreSQL URL of the ArzSw management database (fast-path authentication, readiness).' },
  { name: 'redisUrl', type: { kind: 'url', protocols: ['redis:', 'rediss:'] }, default: undefined, env: 'REDIS_URL', reloadable: false, description: 'Redis shared by proxy instances for flags. Unset: flags live in this instance only.' },
  { name: 'redisKeyPrefix', type: { kind: 'string' }, default: 'fastpath:', env: 'REDIS_KEY_PREFIX', reloadable: false, description: 'Prefix of every Redis key and channel this proxy uses.' },
  { name: 'flags', type: { kind: 'flags' }, default: {}, env: 'FASTPATH_FLAGS', reloadable: true, description: 'Initial mode per route id: `off`, `shadow`, `on` or `canary:<percent>`; env form `v2.rezept.list=on,v2.rezept.pharmacy=canary:10`.' },
  { name: 'flagRefreshMs', type: ms, default: 500, reloadable: false, description: 'How often flags are re-read from Redis besides pub/sub (a missed message is healed within this time).' },
  { name: 'shadowConcurrency', type: { kind: 'integer', min: 0, max: 10_000 }, default: 8, reloadable: true, description: 'Most shadow fast-path runs at once per instance; more are shed and counted.' },
  { name: 'upstream.connectTimeoutMs', type: ms, default: 2000, reloadable: true, description: 'Connecting to the legacy; over it the client gets 502 UPSTREAM_CONNECT_TIMEOUT.' },
  { name: 'upstream.headersTimeoutMs', type: ms, default: 60_000, reloadable: true, description: 'From sending the request to the legacy\'s status line; over it the client gets 504.' },
  { name: 'upstream.bodyTimeoutMs', type: ms, default: 60_000, reloadable: true, description: 'Longest silence while the legacy streams its body; over it the answer is cut off.' },
  { name: 'upstream.maxSockets', type: { kind: 'integer', min: 1, max: 100_000 }, default: 256, reloadable: false, description: 'Keep-alive connections to the legacy at most.' },
  { name: 'forwardedHeaders', type: { kind: 'boolean' }, default: true, env: 'FORWARDED_HEADERS', reloadable: true, description: 'Add X-Forwarded-For/-Proto/-Host to requests passed to the legacy.' },
  { name: 'serverTiming', type: { kind: 'boolean' }, default: true, env: 'SERVER_TIMING', reloadable: true, description: 'Add `Server-Timing: legacy|fast|cache;dur=ms` to every answer.' },
  { name: 'shutdownGraceMs', type: ms, default: 10_000, reloadable: true, description: 'On SIGTERM, how long in-flight requests may take before the sockets are closed.' },
  { name: 'logLevel', type: { kind: 'choice', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] }, default: 'info', env: 'LOG_LEVEL', reloadable: true, description: 'pino log level.' },
  { name: 'maxPageSize', type: { kind: 'integer', min: 1, max: 2_147_483_647 }, default: 500, env: 'MAX_PAGE_SIZE', reloadable: false, description: 'The legacy\'s MaxPageSize setting (API.md §4); must match the legacy it fronts.' },
  { name: 'environment', type: { kind: 'string' }, default: 'Development', env: 'LEGACY_ENVIRONMENT', reloadable: false, description: 'The legacy\'s Environment setting, echoed in list answers (API.md §4).' },
  { name: 'avsSystem.manufacturer', type: { kind: 'string' }, default: 'GfAL', reloadable: false, description: 'avsSystem.manufacturer in every list item (API.md §4).' },
  { name: 'avsSystem.name', type: { kind: 'string' }, default: 'ArzTi', reloadable: false, description: 'avsSystem.name in every list item.' },
  { name: 'avsSystem.version', type: { kind: 'string' }, default: '3.0', reloadable: false, description: 'avsSystem.version in every list item.' },
  { name: 'adminUsers', type: { kind: 'names' }, default: [], env: 'FASTPATH_ADMIN_USERS', reloadable: true, description: 'ArzSw login names allowed to read GET /v2/performance/metrics and GET /v2/health/performance on the client listener (Basic credentials checked as the fast path checks them); anyone else is passed to the legacy. Env form `arz-admin,ops`.' },
  { name: 'performanceTargetP99Ms', type: ms, default: 100, env: 'PERFORMANCE_TARGET_P99_MS', reloadable: true, description: 'Fast-path p99 (ms) GET /v2/health/performance holds each route to; above it the health says `degraded`. Matches the alert rules\' 0.1 s.' },
  { name: 'demo.prefix', type: { kind: 'string' }, default: 'demo_', env: 'FASTPATH_DEMO_PREFIX', reloadable: false, description: 'Database name prefix of the embedded demo (`npm start` without LEGACY_URL).' },
  { name: 'demo.rows', type: { kind: 'integer', min: 300, max: 10_000_000 }, default: 2000, env: 'FASTPATH_DEMO_ROWS', reloadable: false, description: 'Prescriptions the demo seeds into its large tenant.' },
  { name: 'fastPath', type: { kind: 'object' }, default: {}, reloadable: false, description: 'Settings of the fast paths (routes/rezept-list), validated by their owner; passed through as given.' },
]

export const ENVIRONMENTS = ['development', 'test', 'staging', 'production'] as const
export type EnvironmentName = (typeof ENVIRONMENTS)[number]
