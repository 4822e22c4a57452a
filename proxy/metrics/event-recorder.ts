// The metrics consumer of the event bus: turns each ProxyEvent into an instrument update. Runs once
// per request at least, so label objects come from LabelSets (made once) and nothing else is built.
import type { Counter, Histogram, Meter } from '@opentelemetry/api'
import { ROUTE_IDS } from '../../routes/contract.ts'
import type { EventBus, ProxyEvent } from '../../core/events.ts'
import { LATENCY_BUCKETS_SECONDS, METRICS, QUERY_BUCKETS_SECONDS, SPEEDUP_BUCKETS, type MetricSpec } from './catalogue.ts'
import type { CircuitStates } from './circuit-states.ts'
import { LabelSets, statusClass } from './label-sets.ts'

const OTHER_ROUTE = 'other'

/**
 * Series that alerts compute increase() or a ratio over exist from start-up at 0: the first mismatch
 * or demotion of a process is then an increase from 0, not the first sample of a new series (which
 * increase() cannot see).
 */
const ZERO_SERIES = {
  shadowOutcomes: ['match', 'mismatch', 'race', 'legacy-error', 'skipped'],
  upstreamKinds: ['connect', 'headers-timeout', 'body-timeout', 'reset', 'busy', 'slow-body'],
  fallbackReasons: ['db-error', 'db-timeout', 'circuit-open', 'pool-busy'],
} as const

export class EventRecorder {
  readonly #circuits: CircuitStates
  readonly #requestDuration: Histogram
  readonly #requestLabels = new LabelSets(['route', 'served_by', 'status_class'])
  readonly #deferrals: Counter
  readonly #deferralLabels = new LabelSets(['route', 'reason'])
  readonly #upstreamFailures: Counter
  readonly #upstreamLabels = new LabelSets(['kind'])
  readonly #authChecks: Counter
  readonly #authLabels = new LabelSets(['outcome'])
  readonly #dbQueryDuration: Histogram
  // Statement names come from code, not requests; the bound is a guard against a future mistake.
  readonly #queryLabels = new LabelSets(['query', 'result'], 200)
  readonly #cacheLookups: Counter
  readonly #cacheLookupLabels = new LabelSets(['route', 'outcome'])
  readonly #cacheInvalidations: Counter
  readonly #invalidationLabels = new LabelSets(['cause'])
  readonly #cacheStoreSkips: Counter
  readonly #storeSkipLabels = new LabelSets(['route', 'reason'])
  readonly #shadowComparisons: Counter
  readonly #shadowLabels = new LabelSets(['route', 'outcome'])
  readonly #shadowSpeedup: Histogram
  readonly #routeLabels = new LabelSets(['route'])
  readonly #demotions: Counter
  readonly #flagChanges: Counter
  readonly #flagChangeLabels = new LabelSets(['route', 'source'])

  constructor(meter: Meter, circuits: CircuitStates) {
    this.#circuits = circuits
    this.#requestDuration = histogram(meter, METRICS.requestDuration, LATENCY_BUCKETS_SECONDS, 's')
    this.#deferrals = counter(meter, METRICS.fastDeferrals)
    this.#upstreamFailures = counter(meter, METRICS.upstreamFailures)
    this.#authChecks = counter(meter, METRICS.authChecks)
    this.#dbQueryDuration = histogram(meter, METRICS.dbQueryDuration, QUERY_BUCKETS_SECONDS, 's')
    this.#cacheLookups = counter(meter, METRICS.cacheLookups)
    this.#cacheInvalidations = counter(meter, METRICS.cacheInvalidations)
    this.#cacheStoreSkips = counter(meter, METRICS.cacheStoreSkips)
    this.#shadowComparisons = counter(meter, METRICS.shadowComparisons)
    this.#shadowSpeedup = histogram(meter, METRICS.shadowSpeedup, SPEEDUP_BUCKETS, '1')
    this.#demotions = counter(meter, METRICS.routeDemotions)
    this.#flagChanges = counter(meter, METRICS.flagChanges)

    for (const route of ROUTE_IDS) {
      this.#demotions.add(0, this.#routeLabels.get(route))
      for (const outcome of ZERO_SERIES.shadowOutcomes) this.#shadowComparisons.add(0, this.#shadowLabels.get(route, outcome))
      for (const reason of ZERO_SERIES.fallbackReasons) this.#deferrals.add(0, this.#deferralLabels.get(route, reason))
    }
    for (const kind of ZERO_SERIES.upstreamKinds) this.#upstreamFailures.add(0, this.#upstreamLabels.get(kind))
  }

  /** Subscribes to the bus; returns the unsubscribe function. */
  subscribe(events: EventBus): () => void {
    return events.on((event) => this.record(event))
  }

  record(event: ProxyEvent): void {
    switch (event.type) {
      case 'request.served':
        this.#requestDuration.record(event.durationMs / 1000, this.#requestLabels.get(event.routeId ?? OTHER_ROUTE, event.servedBy, statusClass(event.status)))
        return
      case 'fast.deferred':
        // The caller withdrew (client gone, shadow run timed out or closing): not the fast path's doing.
        if (event.reason === 'aborted') return
        this.#deferrals.add(1, this.#deferralLabels.get(event.routeId, event.reason))
        return
      case 'upstream.failed':
        this.#upstreamFailures.add(1, this.#upstreamLabels.get(event.kind))
        return
      case 'auth.checked':
        this.#authChecks.add(1, this.#authLabels.get(event.outcome))
        return
      case 'db.query':
        this.#dbQueryDuration.record(event.durationMs / 1000, this.#queryLabels.get(event.name, event.ok ? 'ok' : 'error'))
        return
      case 'circuit.changed':
        this.#circuits.set(event.tenant, event.state)
        return
      case 'cache.lookup':
        this.#cacheLookups.add(1, this.#cacheLookupLabels.get(event.routeId, event.outcome))
        return
      case 'cache.invalidated':
        this.#cacheInvalidations.add(1, this.#invalidationLabels.get(event.cause))
        return
      case 'cache.store-skipped':
        this.#cacheStoreSkips.add(1, this.#storeSkipLabels.get(event.routeId, event.reason))
        return
      case 'shadow.compared':
        this.#shadowComparisons.add(1, this.#shadowLabels.get(event.routeId, event.outcome))
        // A skipped comparison has no fast answer to time, a failed legacy no meaningful duration; a
        // zero duration has no meaningful ratio.
        if (event.outcome !== 'skipped' && event.outcome !== 'legacy-error' && event.fastMs > 0 && event.legacyMs > 0) {
          this.#shadowSpeedup.record(event.legacyMs / event.fastMs, this.#routeLabels.get(event.routeId))
        }
        return
      case 'route.demoted':
        this.#demotions.add(1, this.#routeLabels.get(event.routeId))
        return
      case 'flag.changed':
        this.#flagChanges.add(1, this.#flagChangeLabels.get(event.routeId, event.source))
        return
      case 'security':
      case 'config.reloaded':
        // Audited (proxy/audit-log.ts), not yet measured: a counter needs an entry in catalogue.ts.
        return
      default:
        // A new event type is recorded by nothing until it is added here (the union is closed: tsc
        // names the missing case when `never` below stops holding).
        assertHandled(event)
    }
  }
}

function assertHandled(_event: never): void {}

function counter(meter: Meter, spec: MetricSpec): Counter {
  return meter.createCounter(spec.name, { description: spec.help })
}

function histogram(meter: Meter, spec: MetricSpec, buckets: readonly number[], unit: string): Histogram {
  return meter.createHistogram(spec.name, { description: spec.help, unit, advice: { explicitBucketBoundaries: [...buckets] } })
}
