// The one table of every configuration option: name, type, default, env var, whether a reload may
// change it, and what it means. Loading, validation and the docs are all derived from this table.

export type OptionType =
  /** nonEmpty: an empty string is refused (it would name nothing). */
  | { kind: 'string'; nonEmpty?: boolean }
  | { kind: 'url'; protocols: readonly string[] }
  | { kind: 'integer'; min: number; max: number }
  | { kind: 'number'; min: number; max: number }
  | { kind: 'boolean' }
  | { kind: 'choice'; values: readonly string[] }
  | { kind: 'flags' }
  /** A list of names: a JSON array of strings, or (env) comma-separated. */
  | { kind: 'names' }
  /** An integer in the range, or the one word (e.g. `cores`). */
  | { kind: 'integerOrWord'; min: number; max: number; word: string }
  /** A cache mode per route id, merged over the default: a JSON object, or (env) `v2.rezept.list=cdc,…`. */
  | { kind: 'cacheModes' }

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
const bytes = { kind: 'integer', min: 1, max: 1_099_511_627_776 } as const
const count = { kind: 'integer', min: 1, max: 1_000_000 } as const

/**
 * Per route: `off` (never cached), `ttl` (an entry lives at most fastPath.cache.maxStaleMs after the
 * database state it reflects), `cdc` (as ttl, and up to changeFeedMaxStaleMs while the tenant's change
 * feed follows).
 */
export type CacheMode = 'off' | 'ttl' | 'cdc'
export const CACHE_MODES: readonly CacheMode[] = ['off', 'ttl', 'cdc']

/**
 * The key secret outside production when none is configured: instances must share one, so it cannot
 * be random per process. Public, so it protects nothing; config/load.ts refuses it in production and
 * the proxy warns when it is used.
 */
export const DEV_REDIS_KEY_SECRET = 'arzti-fastpath development key secret: not a secret'

export const OPTIONS: readonly OptionSpec[] = [
  { name: 'host', type: { kind: 'string' }, default: '127.0.0.1', env: 'HOST', reloadable: false, description: 'Address the client-facing listener binds to.' },
  { name: 'port', type: port, default: 8080, env: 'PORT', reloadable: false, description: 'Port of the client-facing listener (0 = any free port).' },
  { name: 'tls.certFile', type: { kind: 'string' }, default: undefined, env: 'TLS_CERT_FILE', reloadable: false, description: 'PEM certificate (chain, leaf first) of the client listener; with tls.keyFile the listener speaks HTTPS only. Re-read on SIGHUP / POST /reload (new handshakes get it, open connections keep theirs); a changed path needs a restart.' },
  { name: 'tls.keyFile', type: { kind: 'string' }, default: undefined, env: 'TLS_KEY_FILE', reloadable: false, description: 'PEM private key (unencrypted) of tls.certFile; checked against the certificate at start-up and on every reload.' },
  { name: 'tls.minVersion', type: { kind: 'choice', values: ['TLSv1.2', 'TLSv1.3'] }, default: 'TLSv1.2', env: 'TLS_MIN_VERSION', reloadable: false, description: 'Oldest TLS version the client listener accepts.' },
  { name: 'admin.host', type: { kind: 'string' }, default: '127.0.0.1', env: 'ADMIN_HOST', reloadable: false, description: 'Address of the admin listener. Without an admin token it is forced to loopback.' },
  { name: 'admin.port', type: port, default: 9091, env: 'ADMIN_PORT', reloadable: false, description: 'Port of the admin listener (flags, health, metrics).' },
  { name: 'admin.token', type: { kind: 'string' }, default: undefined, env: 'FASTPATH_ADMIN_TOKEN', reloadable: true, description: 'Bearer token the admin API requires. Without one the admin API listens on loopback only and needs no token. A reload that would remove the token of an admin listener bound to another address is refused (POST /reload: 409 ADMIN_TOKEN_REQUIRED; the running configuration stays).' },
  { name: 'admin.metricsOpen', type: { kind: 'boolean' }, default: false, env: 'ADMIN_METRICS_OPEN', reloadable: true, description: 'With an admin token, leave GET /metrics open without it (a Prometheus on a private network that cannot send the token). Off: /metrics needs the token like every admin path but /healthz and /readyz.' },
  { name: 'legacyUrl', type: { kind: 'url', protocols: ['http:', 'https:'] }, default: undefined, env: 'LEGACY_URL', reloadable: false, description: 'Base URL of the legacy ArzTi3Server. `https:` verifies its certificate (see upstream.caFile). Unset: `npm start` runs the embedded demo.' },
  { name: 'arzswUrl', type: { kind: 'url', protocols: ['postgres:', 'postgresql:'] }, default: undefined, env: 'ARZSW_URL', reloadable: false, description: 'PostgreSQL URL of the ArzSw management database (fast-path authentication, readiness).' },
  { name: 'redisUrl', type: { kind: 'url', protocols: ['redis:', 'rediss:'] }, default: undefined, env: 'REDIS_URL', reloadable: false, description: 'Redis shared by proxy instances for flags. Unset: flags live in this instance only.' },
  { name: 'redisKeyPrefix', type: { kind: 'string', nonEmpty: true }, default: 'fastpath:', env: 'REDIS_KEY_PREFIX', reloadable: false, description: 'Prefix of every Redis key and channel this proxy uses.' },
  { name: 'redisKeySecret', type: { kind: 'string' }, default: undefined, env: 'REDIS_KEY_SECRET', reloadable: false, description: 'Secret (at least 32 characters, the same on every instance) of the keyed hash (HMAC-SHA256) that names tenants, logins and addresses in Redis keys: without it they cannot be reproduced from guessed values. Required in production when redisUrl is set (the proxy refuses to start); elsewhere a fixed, public development secret is used and a warning logged.' },
  { name: 'redisBodyKey', type: { kind: 'string' }, default: undefined, env: 'REDIS_BODY_KEY', reloadable: false, description: 'Set (32 random bytes, base64: `openssl rand -base64 32`, the same on every instance): cached answers lie in Redis sealed with AES-256-GCM, bound to their key. Unset: in clear (docs/cache.md gives the cost).' },
  { name: 'flags', type: { kind: 'flags' }, default: {}, env: 'FASTPATH_FLAGS', reloadable: true, description: 'Initial mode per route id: `off`, `shadow`, `on` or `canary:<percent>`; env form `v2.rezept.list=on,v2.rezept.pharmacy=canary:10`.' },
  { name: 'flagRefreshMs', type: ms, default: 500, reloadable: false, description: 'How often flags are re-read from Redis besides pub/sub (a missed message is healed within this time).' },
  { name: 'shadowConcurrency', type: { kind: 'integer', min: 0, max: 10_000 }, default: 8, reloadable: true, description: 'Most shadow fast-path runs at once per instance; more are shed and counted.' },
  { name: 'shadow.bodyCapBytes', type: { kind: 'integer', min: 0, max: 1_073_741_824 }, default: 16_777_216, reloadable: false, description: 'Most bytes of a legacy answer kept for a shadow comparison; a larger answer is passed on in full but its comparison is `skipped`.' },
  { name: 'shadow.samplePercent', type: { kind: 'number', min: 0, max: 100 }, default: 1, reloadable: false, description: 'Share of fast answers on `on`/`canary` routes checked against the legacy in the background (a second GET to the legacy with the same headers).' },
  { name: 'shadow.sampleMaxPerSecond', type: { kind: 'number', min: 0.01, max: 10_000 }, default: 2, reloadable: false, description: 'Most sampled checks started per second per instance (bursts of up to 5 s worth): each is a full request to the legacy, so the background load on it stays bounded however fast clients poll the fast path.' },
  { name: 'shadow.valueMaxChars', type: { kind: 'integer', min: 0, max: 100_000 }, default: 120, reloadable: false, description: 'Values of differing JSON paths in a mismatch record are cut to this many characters.' },
  { name: 'shadow.mismatches.ringSize', type: { kind: 'integer', min: 0, max: 100_000 }, default: 200, reloadable: false, description: 'Mismatch records kept in memory (listed by GET /shadow/mismatches on the admin listener).' },
  { name: 'shadow.mismatches.file', type: { kind: 'string' }, default: undefined, env: 'SHADOW_MISMATCH_FILE', reloadable: false, description: 'NDJSON file the mismatch records are appended to (rotated by size). Unset: memory only.' },
  { name: 'shadow.mismatches.maxFileBytes', type: { kind: 'integer', min: 1024, max: 1_073_741_824 }, default: 10_485_760, reloadable: false, description: 'Size at which the mismatch file is rotated (file → file.1 → …).' },
  { name: 'shadow.mismatches.keepFiles', type: { kind: 'integer', min: 0, max: 100 }, default: 5, reloadable: false, description: 'Rotated mismatch files kept besides the current one.' },
  { name: 'shadow.mismatches.fullBodies', type: { kind: 'boolean' }, default: false, reloadable: false, description: 'Keep both full bodies in mismatch records (patient data). Off: only paths, lengths and sha256 hashes.' },
  { name: 'shadow.mismatches.bodyRetentionMinutes', type: { kind: 'integer', min: 1, max: 525_600 }, default: 1440, reloadable: false, description: 'With full bodies on: bodies older than this are dropped from memory, and the mismatch files holding them are deleted.' },
  { name: 'shadow.demotion.enabled', type: { kind: 'boolean' }, default: true, reloadable: false, description: 'Switch a route `off` on every instance when its comparisons breach the rules below.' },
  { name: 'shadow.demotion.window', type: { kind: 'integer', min: 1, max: 1_000_000 }, default: 1000, reloadable: false, description: 'Sliding window of comparisons per route the demotion rules look at.' },
  { name: 'shadow.demotion.maxMismatches', type: { kind: 'integer', min: 0, max: 1_000_000 }, default: 0, reloadable: false, description: 'Mismatches tolerated in the window; one more demotes the route (0: any mismatch).' },
  { name: 'shadow.demotion.latencyMinSamples', type: { kind: 'integer', min: 0, max: 1_000_000 }, default: 200, reloadable: false, description: 'Comparisons in the window before the fast p99 is held against the legacy p99 (fast above legacy demotes); 0 turns the latency rule off.' },
  { name: 'upstream.connectTimeoutMs', type: ms, default: 2000, reloadable: true, description: 'Connecting to the legacy; over it the client gets 502 UPSTREAM_CONNECT_TIMEOUT.' },
  { name: 'upstream.headersTimeoutMs', type: ms, default: 60_000, reloadable: true, description: 'From sending the request to the legacy\'s status line; over it the client gets 504.' },
  { name: 'upstream.bodyTimeoutMs', type: ms, default: 60_000, reloadable: true, description: 'Longest silence while the legacy streams its body; over it the answer is cut off.' },
  { name: 'upstream.caFile', type: { kind: 'string' }, default: undefined, env: 'LEGACY_CA_FILE', reloadable: false, description: 'PEM bundle of the CAs trusted for an `https:` legacyUrl; it replaces Node\'s built-in CAs for the legacy (pass-through, shadow reads, readiness). Unset: the built-in CAs (plus NODE_EXTRA_CA_CERTS). Verification is never switched off.' },
  { name: 'upstream.idleSocketTimeoutMs', type: ms, default: 60_000, reloadable: false, description: 'A kept-alive connection to the legacy idle this long is closed by the proxy: below Kestrel\'s KeepAliveTimeout (130 s), so the proxy, not the legacy, ends idle connections. Should the legacy close one just as a request is sent on it, a GET, HEAD or OPTIONS without a body is sent once more on a new connection; other requests get 502 UPSTREAM_RESET.' },
  { name: 'upstream.maxSockets', type: { kind: 'integer', min: 1, max: 100_000 }, default: 256, reloadable: false, description: 'Keep-alive connections to the legacy at most.' },
  { name: 'upstream.queueTimeoutMs', type: ms, default: 1000, reloadable: false, description: 'Longest wait for a free connection to the legacy when all upstream.maxSockets are busy; then 503 UPSTREAM_BUSY with Retry-After, instead of a hang. Waiting requests are served first come, first served.' },
  { name: 'upstream.maxPerClient', type: { kind: 'integer', min: 1, max: 100_000 }, default: 32, reloadable: false, description: 'Most requests of one client in flight to the legacy or waiting for a connection (its fair share of upstream.maxSockets); one more is answered 503 UPSTREAM_BUSY at once. A client is a verified user (with limits.enabled: credentials seen accepted), else a client address: the TCP peer, or the last entry of limits.clientAddressHeader behind a load balancer.' },
  { name: 'upstream.anonymousSharePercent', type: { kind: 'integer', min: 1, max: 100 }, default: 75, reloadable: false, description: 'Share of upstream.maxSockets that requests of clients not verified (anonymous, or credentials not yet seen accepted; without limits.enabled every client) may hold together; the rest is kept for verified users, so anonymous load cannot take every legacy connection from them. 100: no reserve.' },
  { name: 'limits.enabled', type: { kind: 'boolean' }, default: false, env: 'LIMITS_ENABLED', reloadable: false, description: 'Rate limits per user/tenant (and per login/address for callers not yet verified), the failed-login throttle and the per-tenant fast-path cap. Off: only the size and time bounds below apply.' },
  { name: 'limits.default.userPerSecond', type: { kind: 'number', min: 0.001, max: 1_000_000 }, default: 20, reloadable: false, description: 'Class `default`: sustained requests per second of one verified user (token bucket refill).' },
  { name: 'limits.default.userBurst', type: { kind: 'integer', min: 1, max: 1_000_000 }, default: 100, reloadable: false, description: 'Class `default`: requests one verified user may send at once (bucket size).' },
  { name: 'limits.default.tenantPerSecond', type: { kind: 'number', min: 0.001, max: 1_000_000 }, default: 100, reloadable: false, description: 'Class `default`: sustained requests per second of all users of one tenant database together.' },
  { name: 'limits.default.tenantBurst', type: { kind: 'integer', min: 1, max: 1_000_000 }, default: 400, reloadable: false, description: 'Class `default`: burst of one tenant database.' },
  { name: 'limits.premium.userPerSecond', type: { kind: 'number', min: 0.001, max: 1_000_000 }, default: 100, reloadable: false, description: 'Class `premium`: sustained requests per second of one verified user.' },
  { name: 'limits.premium.userBurst', type: { kind: 'integer', min: 1, max: 1_000_000 }, default: 500, reloadable: false, description: 'Class `premium`: burst of one verified user.' },
  { name: 'limits.premium.tenantPerSecond', type: { kind: 'number', min: 0.001, max: 1_000_000 }, default: 500, reloadable: false, description: 'Class `premium`: sustained requests per second of one tenant database.' },
  { name: 'limits.premium.tenantBurst', type: { kind: 'integer', min: 1, max: 1_000_000 }, default: 2000, reloadable: false, description: 'Class `premium`: burst of one tenant database.' },
  { name: 'limits.premiumTenants', type: { kind: 'string' }, default: '', env: 'LIMITS_PREMIUM_TENANTS', reloadable: false, description: 'Comma-separated tenant database labels (`host:port/database`, lower-case host) and/or logins in class `premium`; all others are `default`.' },
  { name: 'limits.unverified.loginPerSecond', type: { kind: 'number', min: 0.001, max: 1_000_000 }, default: 5, reloadable: false, description: 'Requests per second presenting one login, from one client address, whose credentials are not (yet) known good. Never counted per login alone: a flood from one address cannot slow the login elsewhere.' },
  { name: 'limits.unverified.loginBurst', type: { kind: 'integer', min: 1, max: 1_000_000 }, default: 20, reloadable: false, description: 'Burst per presented, unverified login from one client address.' },
  { name: 'limits.unverified.addressPerSecond', type: { kind: 'number', min: 0.001, max: 1_000_000 }, default: 20, reloadable: false, description: 'Requests per second from one client address without known-good credentials (behind a load balancer see limits.clientAddressHeader).' },
  { name: 'limits.unverified.addressBurst', type: { kind: 'integer', min: 1, max: 1_000_000 }, default: 100, reloadable: false, description: 'Burst per client address without known-good credentials.' },
  { name: 'limits.authFailures.maxFailures', type: { kind: 'integer', min: 1, max: 1_000_000 }, default: 10, reloadable: false, description: 'Failed logins (401s) of one presented login from one client address, or of one client address, within the window that block that login from that address, or the address. Never a login alone: failures from one address do not lock the login out elsewhere.' },
  { name: 'limits.authFailures.windowMs', type: ms, default: 60_000, reloadable: false, description: 'Window in which failed logins are counted.' },
  { name: 'limits.authFailures.blockMs', type: ms, default: 60_000, reloadable: false, description: 'How long a blocked login (from its address) or address is answered 429 AUTH_THROTTLED (credentials already known good are not blocked).' },
  { name: 'limits.fastConcurrencyPerTenant', type: { kind: 'integer', min: 0, max: 100_000 }, default: 16, reloadable: false, description: 'Most fast-path requests in flight per tenant database; more are deferred to the legacy (reason `shed`). 0: no cap. Applies with limits.enabled.' },
  { name: 'limits.verifiedTrustMs', type: ms, default: 3_600_000, reloadable: false, description: 'How long credentials seen accepted (fast answer or a 2xx of the legacy) count as verified for limiting; a 401 ends it at once. Access itself is always decided by the verifier or the legacy.' },
  { name: 'limits.redisTimeoutMs', type: ms, default: 50, reloadable: false, description: 'Longest wait for the shared Redis bucket; slower or unreachable Redis and this instance\'s own buckets decide.' },
  { name: 'limits.clientAddressHeader', type: { kind: 'string' }, default: undefined, env: 'LIMITS_CLIENT_ADDRESS_HEADER', reloadable: false, description: 'Set (e.g. `x-forwarded-for`, lower case) only behind a load balancer that appends the client address to it: its last entry is the client address. Unset: the TCP peer.' },
  { name: 'limits.maxBodyBytes', type: { kind: 'integer', min: 0, max: 2_147_483_647 }, default: 30_000_000, reloadable: false, description: 'A request whose Content-Length is above this is answered 413 (Kestrel\'s MaxRequestBodySize default). Always on.' },
  { name: 'limits.maxHeaderBytes', type: { kind: 'integer', min: 1024, max: 1_048_576 }, default: 32_768, reloadable: false, description: 'Node\'s maxHeaderSize for the client listener: request line plus headers above this are answered 431 (Kestrel allows 32 KB). Always on.' },
  { name: 'limits.headersTimeoutMs', type: ms, default: 30_000, reloadable: false, description: 'A client must send its whole request head within this (slowloris bound; Kestrel\'s RequestHeadersTimeout is 30 s); else 408 and the connection is closed.' },
  { name: 'limits.requestTimeoutMs', type: { kind: 'integer', min: 0, max: 3_600_000 }, default: 300_000, reloadable: false, description: 'A client must send its whole request, body included, within this; else 408. Waiting for the answer does not count. 0: no bound.' },
  { name: 'limits.bodyMinBytesPerSecond', type: { kind: 'integer', min: 0, max: 1_000_000_000 }, default: 240, reloadable: false, description: 'A request body passed to the legacy must arrive at least this fast on average once limits.bodyRateGraceMs have passed (Kestrel\'s MinRequestBodyDataRate: 240 bytes/s after 5 s); slower is answered 408 REQUEST_BODY_TIMEOUT and its connections to client and legacy are closed. 0: no minimum.' },
  { name: 'limits.bodyRateGraceMs', type: ms, default: 5000, reloadable: false, description: 'Time a request body is given before limits.bodyMinBytesPerSecond applies.' },
  { name: 'limits.bodyTimeoutMs', type: { kind: 'integer', min: 0, max: 3_600_000 }, default: 60_000, reloadable: false, description: 'A request body passed to the legacy must be complete within this, however fast it trickles; else 408 REQUEST_BODY_TIMEOUT. 30 MB (limits.maxBodyBytes) at 240 bytes/s would take 35 hours: this bounds how long one body holds a legacy connection. 0: no bound.' },
  { name: 'audit.destination', type: { kind: 'string' }, default: 'stderr', env: 'AUDIT_LOG', reloadable: false, description: 'Where audit lines go (admin actions, security events): `stderr`, `stdout`, a file path (appended), or `off`. Separate from the operational log on stdout.' },
  { name: 'forwardedHeaders', type: { kind: 'boolean' }, default: true, env: 'FORWARDED_HEADERS', reloadable: true, description: 'Add X-Forwarded-For/-Proto/-Host to requests passed to the legacy.' },
  { name: 'tracing.exporter', type: { kind: 'choice', values: ['none', 'otlp'] }, default: 'none', env: 'OTEL_TRACES_EXPORTER', reloadable: false, description: '`otlp`: one trace per request (span per route, child spans for authentication, cache, SQL statements and the legacy call) exported as OTLP over HTTP (JSON) to tracing.endpoint, and `traceparent` sent to the legacy (docs/operations.md "Traces"). `none`: no spans, no context work; a client\'s own `traceparent` passes through untouched.' },
  { name: 'tracing.endpoint', type: { kind: 'url', protocols: ['http:', 'https:'] }, default: undefined, env: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', reloadable: false, description: 'Full OTLP/HTTP traces URL (e.g. `http://collector:4318/v1/traces`). Unset: the exporter\'s standard reading of OTEL_EXPORTER_OTLP_ENDPOINT (+ `/v1/traces`), else `http://localhost:4318/v1/traces`; OTEL_EXPORTER_OTLP_HEADERS and the certificate variables apply as usual.' },
  { name: 'tracing.sampler', type: { kind: 'choice', values: ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] }, default: 'parentbased_always_on', env: 'OTEL_TRACES_SAMPLER', reloadable: false, description: 'Which requests are traced (the OpenTelemetry sampler names); `parentbased_*` follows the sampled flag of an incoming `traceparent`.' },
  { name: 'tracing.samplerArg', type: { kind: 'number', min: 0, max: 1 }, default: 1, env: 'OTEL_TRACES_SAMPLER_ARG', reloadable: false, description: 'The ratio of the `*traceidratio` samplers (0.01: one request in a hundred).' },
  { name: 'tracing.serviceName', type: { kind: 'string', nonEmpty: true }, default: 'arzti-fastpath', env: 'OTEL_SERVICE_NAME', reloadable: false, description: 'service.name of the exported spans.' },
  { name: 'serverTiming', type: { kind: 'boolean' }, default: true, env: 'SERVER_TIMING', reloadable: true, description: 'Add `Server-Timing: legacy|fast|cache;dur=ms` to every answer.' },
  { name: 'shutdownGraceMs', type: ms, default: 10_000, reloadable: true, description: 'On SIGTERM, how long in-flight requests may take before the sockets are closed.' },
  { name: 'logLevel', type: { kind: 'choice', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] }, default: 'info', env: 'LOG_LEVEL', reloadable: true, description: 'pino log level.' },
  { name: 'maxPageSize', type: { kind: 'integer', min: 1, max: 2_147_483_647 }, default: 500, env: 'MAX_PAGE_SIZE', reloadable: false, description: 'The legacy\'s MaxPageSize (docs/legacy-contract.md §4). With a probe user it is read from the legacy, and a value set here is an assertion (a difference: exit 2); unset, the legacy code\'s default. See docs/operations.md "The legacy\'s answer-shaping settings".' },
  { name: 'environment', type: { kind: 'string' }, default: 'Development', env: 'LEGACY_ENVIRONMENT', reloadable: false, description: 'The legacy\'s Environment, echoed in list answers (docs/legacy-contract.md §4). Learnt like maxPageSize; unset, the legacy code\'s default.' },
  { name: 'legacyProbe.login', type: { kind: 'string' }, default: undefined, env: 'LEGACY_PROBE_LOGIN', reloadable: false, description: 'An ArzSw user (who sees at least one prescription) the proxy signs in as at start and on every reload to read the legacy\'s MaxPageSize, Environment and avsSystem, which it then uses; one of maxPageSize, environment, avsSystem.* set here and different stops the start (exit 2). Unset: `on`/`canary` are refused unless all of those are set explicitly.' },
  { name: 'legacyProbe.password', type: { kind: 'string' }, default: undefined, env: 'LEGACY_PROBE_PASSWORD', reloadable: false, description: 'Password of legacyProbe.login.' },
  { name: 'avsSystem.manufacturer', type: { kind: 'string' }, default: 'GfAL', reloadable: false, description: 'avsSystem.manufacturer in every list item (docs/legacy-contract.md §4); learnt like maxPageSize.' },
  { name: 'avsSystem.name', type: { kind: 'string' }, default: 'ArzTi', reloadable: false, description: 'avsSystem.name in every list item.' },
  { name: 'avsSystem.version', type: { kind: 'string' }, default: '3.0', reloadable: false, description: 'avsSystem.version in every list item.' },
  { name: 'adminUsers', type: { kind: 'names' }, default: [], env: 'FASTPATH_ADMIN_USERS', reloadable: true, description: 'ArzSw login names allowed to read GET /v2/performance/metrics and GET /v2/health/performance on the client listener (Basic credentials checked as the fast path checks them); anyone else is passed to the legacy. Env form `arz-admin,ops`.' },
  { name: 'performanceTargetP99Ms', type: ms, default: 100, env: 'PERFORMANCE_TARGET_P99_MS', reloadable: true, description: 'Fast-path p99 (ms) GET /v2/health/performance holds each route to; above it the health says `degraded`. Matches the alert rules\' 0.1 s.' },
  { name: 'performanceMinAnswers', type: { kind: 'integer', min: 1, max: 1_000_000 }, default: 200, reloadable: true, description: 'Fast answers a route needs before GET /v2/health/performance holds its p99 to the target (or performanceMinSeconds after start, whichever comes first); before, the health says `warming up`, so the cold first answers after a deploy raise no false alarm.' },
  { name: 'performanceMinSeconds', type: { kind: 'integer', min: 0, max: 86_400 }, default: 60, reloadable: true, description: 'Seconds after start from which GET /v2/health/performance judges every route with fast answers, however few.' },
  { name: 'demo.prefix', type: { kind: 'string' }, default: 'demo_', env: 'FASTPATH_DEMO_PREFIX', reloadable: false, description: 'Database name prefix of the embedded demo (`npm start` without LEGACY_URL).' },
  { name: 'demo.rows', type: { kind: 'integer', min: 300, max: 10_000_000 }, default: 2000, env: 'FASTPATH_DEMO_ROWS', reloadable: false, description: 'Prescriptions the demo seeds into its large tenant.' },
  // The fast paths of GET /v2/rezept and /v2/rezept/status (routes/v2-rezept-list): built once at
  // start, so none is reloadable. They also take arzswUrl, maxPageSize, environment, avsSystem.* and
  // the redis* options above.
  { name: 'fastPath.authCacheTtlMs', type: ms, default: 60_000, reloadable: false, description: 'How long a verified or refused credential is trusted without running BCrypt again.' },
  { name: 'fastPath.userRowRefreshMs', type: ms, default: 10_000, reloadable: false, description: 'Time between re-reads of a user\'s ArzSw row (password, tenant) when nothing in ArzSw changed; at most fastPath.authCacheTtlMs.' },
  { name: 'fastPath.credentialWatchMs', type: ms, default: 1000, reloadable: false, description: 'How long a change in ArzSw (a password, a removed login, a tenant move, a connection string) may go unseen: a request finding the last look at ArzSw\'s version older than this waits for a new one (one small query, at most one per period per instance), and a changed version makes every user row be read again.' },
  { name: 'fastPath.authSharedOutcomes', type: { kind: 'boolean' }, default: true, env: 'FASTPATH_AUTH_SHARED_OUTCOMES', reloadable: false, description: 'With redisUrl: verified BCrypt outcomes are shared through Redis, so an instance that starts (or another instance) takes a user\'s outcome there instead of running BCrypt again. Keyed by an HMAC (redisKeySecret) of login, password and the user\'s ArzSw row: Redis holds no login nor password, and a changed password, removed login or tenant move makes old entries unreachable. Only verified outcomes, for at most fastPath.authCacheTtlMs. false: each instance verifies alone.' },
  { name: 'fastPath.authRedisTimeoutMs', type: ms, default: 50, reloadable: false, description: 'How long a credential check waits for Redis (fastPath.authSharedOutcomes) before running BCrypt without it.' },
  { name: 'fastPath.bcryptWorkers', type: { kind: 'integerOrWord', min: 0, max: 64, word: 'cores' }, default: 'cores', env: 'FASTPATH_BCRYPT_WORKERS', reloadable: false, description: 'Worker threads that run BCrypt comparisons, so they never hold up the event loop: `cores` (one per available core, os.availableParallelism), a number, or 0 to run them on the event loop (no queue bounds then).' },
  { name: 'fastPath.bcryptMaxQueued', type: { kind: 'integer', min: 1, max: 100_000 }, default: 32, reloadable: false, description: 'BCrypt comparisons waiting for a thread at most (besides at most 2 per login, logins served in turn); one more is deferred to the legacy at once (reason auth-busy), which checks the password itself.' },
  { name: 'fastPath.bcryptQueueTimeoutMs', type: ms, default: 500, reloadable: false, description: 'How long a BCrypt comparison may wait for a thread; not begun by then, its request is deferred to the legacy (reason auth-busy).' },
  { name: 'fastPath.pool.maxSize', type: { kind: 'integer', min: 1, max: 10_000 }, default: 10, env: 'FASTPATH_POOL_MAX_SIZE', reloadable: false, description: 'Connections per tenant database pool.' },
  { name: 'fastPath.pool.maxPools', type: { kind: 'integer', min: 1, max: 100_000 }, default: 50, reloadable: false, description: 'Tenant pools kept open at once; the least recently used is closed beyond it.' },
  { name: 'fastPath.pool.idleTimeoutMs', type: ms, default: 60_000, reloadable: false, description: 'An unused pool (and an idle connection) is closed after this.' },
  { name: 'fastPath.pool.connectTimeoutMs', type: ms, default: 2000, reloadable: false, description: 'Connecting or waiting for a free connection may take this long before the request defers to the legacy.' },
  { name: 'fastPath.pool.statementTimeoutMs', type: ms, default: 5000, reloadable: false, description: 'PostgreSQL statement_timeout of fast-path queries (tenant and ArzSw); the client stops waiting for an answer after twice this (a slow network), deferring with db-timeout (auth-unavailable for ArzSw).' },
  { name: 'fastPath.pool.sessionOptions', type: { kind: 'boolean' }, default: true, env: 'FASTPATH_POOL_SESSION_OPTIONS', reloadable: false, description: 'Send DateStyle=ISO, jit=off, random_page_cost=1.1 as startup options; false behind PgBouncer.' },
  { name: 'fastPath.preparedStatements', type: { kind: 'boolean' }, default: true, env: 'FASTPATH_PREPARED_STATEMENTS', reloadable: false, description: 'Use named prepared statements; false for PgBouncer in transaction mode.' },
  { name: 'fastPath.countCache', type: { kind: 'boolean' }, default: true, reloadable: false, description: 'Reuse per-type counts while the tenant cluster\'s snapshot is unchanged (no commit since); exact, false to always count.' },
  { name: 'fastPath.fastPathMaxPageSize', type: { kind: 'integer', min: 1, max: 2_147_483_647 }, default: 100_000, reloadable: false, description: 'A clamped pageSize above this is left to the legacy, bounding the fast path\'s memory per request.' },
  { name: 'fastPath.xmlMemoBytes', type: { kind: 'integer', min: 0, max: 1_099_511_627_776 }, default: 67_108_864, reloadable: false, description: 'Bytes of escaped xmlRequest texts kept for reuse, each used only while the row\'s text is unchanged (exact); 0 escapes every text anew.' },
  { name: 'fastPath.circuitBreaker.failureThreshold', type: count, default: 5, reloadable: false, description: 'Consecutive database failures of a tenant that open its circuit.' },
  { name: 'fastPath.circuitBreaker.openMs', type: ms, default: 10_000, reloadable: false, description: 'How long an open circuit sends the tenant to the legacy before a trial request.' },
  { name: 'fastPath.cache.routes', type: { kind: 'cacheModes' }, default: { 'v2.rezept.list': 'ttl', 'v2.rezept.pharmacy': 'ttl' }, env: 'FASTPATH_CACHE_ROUTES', reloadable: false, description: 'Cache mode per route id, `off`, `ttl` or `cdc`, merged over the default (a route not named, `v1.prescriptions.new` by default, is not cached): e.g. `{"v2.rezept.list":"cdc"}`; env form `v2.rezept.list=cdc,v2.rezept.pharmacy=off`.' },
  { name: 'fastPath.cache.maxStaleMs', type: ms, default: 2000, env: 'FASTPATH_CACHE_MAX_STALE_MS', reloadable: false, description: 'ttl: how long after its load began an answer may still be served; bounds how late a write the proxy does not see (imports, the ARZ check) shows.' },
  { name: 'fastPath.cache.changeFeedMaxStaleMs', type: ms, default: 60_000, reloadable: false, description: 'cdc: how long an answer may be served while the tenant\'s change feed follows without a gap.' },
  { name: 'fastPath.cache.l1MaxBytes', type: bytes, default: 268_435_456, reloadable: false, description: 'Bytes of answers kept in this process.' },
  { name: 'fastPath.cache.maxEntryBytes', type: bytes, default: 16_777_216, reloadable: false, description: 'Answers larger than this are not cached; at most fastPath.cache.l1MaxBytes.' },
  { name: 'fastPath.cache.redisCommandTimeoutMs', type: ms, default: 100, reloadable: false, description: 'How long a cache command to Redis may take before the request goes on without Redis.' },
  { name: 'fastPath.cache.publication', type: { kind: 'string', nonEmpty: true }, default: 'fastpath_changes', env: 'FASTPATH_CACHE_PUBLICATION', reloadable: false, description: 'cdc: the logical-replication publication followed in each tenant database (docs/legacy-contract.md §11).' },
]

export const ENVIRONMENTS = ['development', 'test', 'staging', 'production'] as const
export type EnvironmentName = (typeof ENVIRONMENTS)[number]
