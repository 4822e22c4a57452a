// Every metric the proxy exports: its Prometheus name, help text, type and labels, in one table that
// the instruments, the scrape-time gauges, the docs, the dashboard and the alert rules are checked against.

export type MetricKind = 'counter' | 'gauge' | 'histogram'

export interface MetricSpec {
  readonly name: string
  readonly kind: MetricKind
  readonly help: string
  readonly labels: readonly string[]
}

function spec(name: string, kind: MetricKind, labels: readonly string[], help: string): MetricSpec {
  return Object.freeze({ name, kind, help, labels: Object.freeze([...labels]) })
}

/**
 * Client-visible latencies run from ~1 ms (a cached answer) to the legacy's 30 s worst case; 0.1 s is
 * a bucket edge because it is the fast path's p99 target (config/prometheus/alerts.yml).
 */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10, 30]
/** Database statements: sub-millisecond index probes up to the statement timeout. */
export const QUERY_BUCKETS_SECONDS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
/** legacy duration / fast duration of one shadowed request: below 1 the fast path was slower. */
export const SPEEDUP_BUCKETS: readonly number[] = [0.5, 0.75, 1, 1.25, 1.5, 2, 3, 5, 10, 20, 50, 100, 200]

export const METRICS = {
  requestDuration: spec('fastpath_request_duration_seconds', 'histogram', ['route', 'served_by', 'status_class'],
    'Client request duration from arrival to the last byte, by route id ("other" for routes without a fast path), serving path (fast, legacy, cache) and status class (2xx..5xx, 499 = client went away).'),
  requestsInFlight: spec('fastpath_requests_in_flight', 'gauge', [], 'Client requests being answered now.'),
  fastDeferrals: spec('fastpath_fast_deferrals_total', 'counter', ['route', 'reason'], 'Requests the fast path handed to the legacy, by reason.'),
  upstreamFailures: spec('fastpath_upstream_failures_total', 'counter', ['kind'], 'Legacy upstream failures: connect, headers-timeout, body-timeout, reset, aborted (client left), busy (503 UPSTREAM_BUSY: no connection free in time or over the client\'s share), slow-body (408: the client\'s body too slow).'),
  authChecks: spec('fastpath_auth_checks_total', 'counter', ['outcome'], 'Fast-path credential checks: verified (BCrypt or plain comparison ran for the request), cached, refreshed (a used outcome checked again in the background before it expired), rejected, unavailable (ArzSw not reachable), busy (no BCrypt thread within the queue\'s bounds: deferred as auth-busy).'),
  dbQueryDuration: spec('fastpath_db_query_duration_seconds', 'histogram', ['query', 'result'], 'Fast-path database statement duration by statement name and result (ok, error).'),
  cacheLookups: spec('fastpath_cache_lookups_total', 'counter', ['route', 'outcome'], 'Response cache lookups: hit-l1 (memory), hit-l2 (Redis), revalidated (memory, the database unchanged since the load), miss, stale.'),
  cacheInvalidations: spec('fastpath_cache_invalidations_total', 'counter', ['cause'], 'Response cache invalidations: write, peer, cdc, gap, redis-lost.'),
  cacheRedisErrors: spec('fastpath_cache_redis_errors_total', 'counter', [], 'Redis commands of the response cache that failed or timed out (lookups, stores, invalidations, generation reads): the cache then answers from memory or the database, and invalidations may not reach other instances.'),
  cacheLoads: spec('fastpath_cache_loads_total', 'counter', [], 'Loads from the tenant database begun for response cache misses; concurrent misses of one key share one load.'),
  cacheStoreSkips: spec('fastpath_cache_store_skips_total', 'counter', ['route', 'reason'], 'Answers not stored in the response cache: too-big, invalidated (during the load), shape.'),
  shadowComparisons: spec('fastpath_shadow_comparisons_total', 'counter', ['route', 'outcome'], 'Shadow comparisons of fast against legacy answers: match, mismatch, race, legacy-error (the legacy answered 5xx, failed, or refused verified credentials; never demotes), skipped.'),
  shadowSpeedup: spec('fastpath_shadow_speedup_ratio', 'histogram', ['route'], 'Legacy duration divided by fast duration for the same shadowed request (above 1: the fast path was faster).'),
  shadowRuns: spec('fastpath_shadow_runs_total', 'counter', ['outcome'], 'Shadow fast-path runs: started, shed (over the concurrency cap), answered, deferred, failed.'),
  routeDemotions: spec('fastpath_route_demotions_total', 'counter', ['route'], 'Routes switched off automatically (mismatch rate or p99 worse than the legacy).'),
  flagChanges: spec('fastpath_flag_changes_total', 'counter', ['route', 'source'], 'Flag changes applied on this instance, by source: admin, config, peer, demotion.'),
  flagMode: spec('fastpath_flag_mode', 'gauge', ['route', 'mode'], 'The flag per route: one series per route and mode (off, shadow, on, canary), 1 for the current mode, 0 for the others.'),
  circuitState: spec('fastpath_circuit_state', 'gauge', ['tenant'], 'Circuit breaker per tenant database (label: the first 12 hex digits of the SHA-256 of host:port/database): 0 closed, 1 half-open, 2 open.'),
  poolConnections: spec('fastpath_pool_connections', 'gauge', ['tenant'], 'Connections open in the tenant database pool (label: the first 12 hex digits of the SHA-256 of host:port/database).'),
  poolIdleConnections: spec('fastpath_pool_idle_connections', 'gauge', ['tenant'], 'Idle connections in the tenant database pool.'),
  poolWaitingRequests: spec('fastpath_pool_waiting_requests', 'gauge', ['tenant'], 'Requests waiting for a connection from the tenant database pool.'),
  xmlMemoLookups: spec('fastpath_xml_memo_lookups_total', 'counter', ['outcome'], 'Escaped xmlRequest texts reused (hit: the row\'s text unchanged) or escaped anew (miss), for texts long enough to keep.'),
  xmlMemoBytes: spec('fastpath_xml_memo_bytes', 'gauge', [], 'Bytes of escaped xmlRequest texts kept for reuse (bounded by fastPath.xmlMemoBytes).'),
  readiness: spec('fastpath_readiness', 'gauge', ['status'], 'The verdict of the latest /readyz: one series per status (ok, degraded, down), 1 for the current one. degraded: a dependency check failed (Redis, ArzSw) but the instance serves; only down is answered 503.'),
  redisUp: spec('fastpath_redis_up', 'gauge', [], '1 when the proxy\'s Redis connection is ready, 0 when not (flags and cache invalidations are then not shared).'),
} as const

export type MetricKey = keyof typeof METRICS

/** The series names Prometheus sees: histograms add _bucket, _sum and _count. */
export function exposedSeriesNames(): Set<string> {
  const names = new Set<string>()
  for (const metric of Object.values(METRICS)) {
    names.add(metric.name)
    if (metric.kind === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix)
  }
  return names
}
