// The bodies of GET /v2/performance/metrics and GET /v2/health/performance (the endpoints the
// legacy's own plan promised), in the legacy's style: compact camelCase JSON, "now" as UtcNow text.
import { ROUTE_IDS, type RouteId } from '../routes/contract.ts'
import { utcNowText } from '../json/dotnet-time.ts'
import { flagText, type FlagSetting } from '../core/flag-setting.ts'
import type { PoolStats } from './metrics/sources.ts'
import { PerformanceStats, SERVING_PATHS, type CacheLookupCounts, type LatencySummary } from './performance-stats.ts'
import { ROUTES } from '../routes/route-table.ts'
import type { ServedBy } from '../core/events.ts'

export interface PerformanceSources {
  readonly stats: PerformanceStats
  readonly flag: (route: RouteId) => FlagSetting
  /** Open tenant pools (the fast paths'); absent when the proxy has no fast paths. */
  readonly pools?: () => readonly PoolStats[]
  /** The readiness checks (legacy, arzsw, redis: each only when configured). */
  readonly checks: () => Promise<Record<string, boolean>>
  readonly targetP99Ms: () => number
  /** A route's p99 is judged from this many fast answers, or this long after start, whichever first. */
  readonly minSample: () => { readonly answers: number; readonly seconds: number }
  readonly startedAt: number
}

export interface RoutePerformance {
  readonly routeId: RouteId
  readonly path: string
  readonly flag: string
  readonly latency: Record<ServedBy, LatencySummary>
  /** Legacy latency divided by fast (or cache) latency at the same percentile; null without both. */
  readonly improvement: { readonly fastP50: number | null; readonly fastP99: number | null; readonly cacheP50: number | null; readonly cacheP99: number | null }
  readonly cacheHitRate: number | null
  readonly cacheLookups: CacheLookupCounts
}

export function performanceMetrics(sources: PerformanceSources): Record<string, unknown> {
  const routes = ROUTE_IDS.map((route) => routePerformance(sources, route))
  let hits = 0
  let lookups = 0
  for (const route of routes) {
    const l = route.cacheLookups
    hits += l.hitL1 + l.hitL2 + l.revalidated
    lookups += l.hitL1 + l.hitL2 + l.revalidated + l.miss + l.stale
  }
  const memory = process.memoryUsage()
  return {
    generatedAt: utcNowText(),
    uptimeSeconds: Math.round((Date.now() - sources.startedAt) / 1000),
    targetP99Ms: sources.targetP99Ms(),
    routes,
    cacheHitRate: ratio(hits, lookups),
    pools: poolUse(sources.pools?.() ?? []),
    memory: { rssBytes: memory.rss, heapUsedBytes: memory.heapUsed, heapTotalBytes: memory.heapTotal, externalBytes: memory.external },
  }
}

/**
 * `degraded` when a dependency is down or a route's fast p99 is above the target; `warming up` while
 * a route with fast answers has fewer than the minimum sample (the first answers after a start pay
 * for connections and BCrypt: 6 of them said `degraded` 5 s after every deploy); always 200.
 */
export async function performanceHealth(sources: PerformanceSources): Promise<Record<string, unknown>> {
  const checks = await sources.checks()
  const target = sources.targetP99Ms()
  const minSample = sources.minSample()
  const settled = Date.now() - sources.startedAt >= minSample.seconds * 1000
  const routes = ROUTE_IDS.map((route) => {
    const fast = sources.stats.latency(route, 'fast')
    const cache = sources.stats.latency(route, 'cache')
    const warmingUp = fast.count > 0 && fast.count < minSample.answers && !settled
    return {
      routeId: route,
      flag: flagText(sources.flag(route)),
      fastAnswers: fast.count,
      fastP99Ms: fast.p99Ms,
      cacheP99Ms: cache.p99Ms,
      warmingUp,
      // No fast answers yet, or too few, is not a breach: there is nothing fair to hold against the target.
      withinTarget: fast.p99Ms === null || warmingUp || fast.p99Ms <= target,
    }
  })
  const dependenciesOk = Object.values(checks).every(Boolean)
  const latencyOk = routes.every((route) => route.withinTarget)
  const problems = [
    ...Object.entries(checks).filter(([, ok]) => !ok).map(([name]) => `${name} unreachable`),
    ...routes.filter((route) => !route.withinTarget).map((route) => `${route.routeId} fast p99 ${route.fastP99Ms} ms above target ${target} ms`),
  ]
  const warming = routes.filter((route) => route.warmingUp)
  return {
    status: !dependenciesOk || !latencyOk ? 'degraded' : warming.length > 0 ? 'warming up' : 'ok',
    ...(warming.length > 0 ? { warmingUp: `fast p99 judged after ${minSample.answers} fast answers or ${minSample.seconds} s after start; so far ${warming.map((route) => `${route.routeId} ${route.fastAnswers}`).join(', ')}` } : {}),
    checkedAt: utcNowText(),
    checks,
    targetP99Ms: target,
    routes,
    problems,
  }
}

function routePerformance(sources: PerformanceSources, route: RouteId): RoutePerformance {
  const latency = {} as Record<ServedBy, LatencySummary>
  for (const path of SERVING_PATHS) latency[path] = sources.stats.latency(route, path)
  const lookups = sources.stats.cacheLookups(route)
  const hits = lookups.hitL1 + lookups.hitL2 + lookups.revalidated
  return {
    routeId: route,
    path: ROUTES.find((r) => r.id === route)?.path ?? route,
    flag: flagText(sources.flag(route)),
    latency,
    improvement: {
      fastP50: speedup(latency.legacy.p50Ms, latency.fast.p50Ms),
      fastP99: speedup(latency.legacy.p99Ms, latency.fast.p99Ms),
      cacheP50: speedup(latency.legacy.p50Ms, latency.cache.p50Ms),
      cacheP99: speedup(latency.legacy.p99Ms, latency.cache.p99Ms),
    },
    cacheHitRate: ratio(hits, hits + lookups.miss + lookups.stale),
    cacheLookups: lookups,
  }
}

function poolUse(stats: readonly PoolStats[]) {
  let connections = 0
  let idle = 0
  let waiting = 0
  for (const pool of stats) {
    connections += pool.total
    idle += pool.idle
    waiting += pool.waiting
  }
  return {
    pools: stats.length,
    connections,
    busy: connections - idle,
    idle,
    waiting,
    byTenant: stats.map((pool) => ({ tenant: pool.tenant, connections: pool.total, idle: pool.idle, waiting: pool.waiting })),
  }
}

function speedup(legacyMs: number | null, otherMs: number | null): number | null {
  if (legacyMs === null || otherMs === null || otherMs <= 0) return null
  return Math.round((legacyMs / otherMs) * 10) / 10
}

function ratio(part: number, whole: number): number | null {
  return whole === 0 ? null : Math.round((part / whole) * 10_000) / 10_000
}
