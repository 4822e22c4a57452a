// A compact per-route latency summary for the performance endpoints, fed by the same bus events as the
// metrics: the last N durations per route and serving path (legacy, fast, cache) in fixed rings, and
// the cache lookup counts per route. The Prometheus histograms answer "how many under 100 ms"; these
// rings answer "what is p99 now" exactly, which bucketed histograms cannot.
import { ROUTE_IDS, type RouteId } from '../routes/contract.ts'
import type { CacheLookupOutcome, EventBus, ProxyEvent, ServedBy } from '../core/events.ts'

export const SERVING_PATHS: readonly ServedBy[] = ['legacy', 'fast', 'cache']

/** Durations kept per route and path: enough for a stable p99 (20 samples above it), little memory (16 KB). */
export const DEFAULT_WINDOW = 2048

export interface LatencySummary {
  /** Answers seen since start (not only the ones in the window). */
  readonly count: number
  /** Answers the percentiles are computed from (the most recent, at most the window). */
  readonly sampled: number
  readonly p50Ms: number | null
  readonly p95Ms: number | null
  readonly p99Ms: number | null
}

export interface CacheLookupCounts {
  readonly hitL1: number
  readonly hitL2: number
  readonly revalidated: number
  readonly miss: number
  readonly stale: number
}

/** A fixed ring of the most recent durations; recording allocates nothing. */
class DurationRing {
  readonly #values: Float64Array
  #next = 0
  #count = 0

  constructor(size: number) {
    this.#values = new Float64Array(size)
  }

  record(ms: number): void {
    this.#values[this.#next] = ms
    this.#next = (this.#next + 1) % this.#values.length
    this.#count++
  }

  summary(): LatencySummary {
    const sampled = Math.min(this.#count, this.#values.length)
    const sorted = this.#values.slice(0, sampled).sort()
    return { count: this.#count, sampled, p50Ms: percentile(sorted, 50), p95Ms: percentile(sorted, 95), p99Ms: percentile(sorted, 99) }
  }
}

/** Nearest-rank percentile of sorted values, rounded to 0.01 ms (a cached answer takes well under 1 ms); null without values. */
export function percentile(sorted: ArrayLike<number>, p: number): number | null {
  if (sorted.length === 0) return null
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length))
  return Math.round(sorted[rank - 1]! * 100) / 100
}

type LookupTally = { -readonly [K in keyof CacheLookupCounts]: number }

const LOOKUP_FIELD: Record<CacheLookupOutcome, keyof CacheLookupCounts> = { 'hit-l1': 'hitL1', 'hit-l2': 'hitL2', revalidated: 'revalidated', miss: 'miss', stale: 'stale' }

export class PerformanceStats {
  readonly #rings = new Map<RouteId, Record<ServedBy, DurationRing>>()
  readonly #lookups = new Map<RouteId, LookupTally>()

  constructor(window = DEFAULT_WINDOW) {
    for (const route of ROUTE_IDS) {
      this.#rings.set(route, { legacy: new DurationRing(window), fast: new DurationRing(window), cache: new DurationRing(window) })
      this.#lookups.set(route, { hitL1: 0, hitL2: 0, revalidated: 0, miss: 0, stale: 0 })
    }
  }

  /** Subscribes to the bus; returns the unsubscribe function. */
  subscribe(events: EventBus): () => void {
    return events.on((event) => this.record(event))
  }

  record(event: ProxyEvent): void {
    if (event.type === 'request.served') {
      // A client that left (499) says nothing about how fast the answer would have been.
      if (event.routeId === null || event.status === 499) return
      this.#rings.get(event.routeId)?.[event.servedBy].record(event.durationMs)
    } else if (event.type === 'cache.lookup') {
      const tally = this.#lookups.get(event.routeId)
      if (tally !== undefined) tally[LOOKUP_FIELD[event.outcome]]++
    }
  }

  latency(route: RouteId, path: ServedBy): LatencySummary {
    return this.#rings.get(route)![path].summary()
  }

  cacheLookups(route: RouteId): CacheLookupCounts {
    return { ...this.#lookups.get(route)! }
  }
}
