// The metrics read at scrape time (flag modes, circuit states, pools, in-flight, Redis, shadow runs, cache counts),
// built fresh on every collection. Not OpenTelemetry observable gauges: the JS SDK keeps reporting a
// label set a callback stopped observing (a closed pool would show its last "waiting" forever and
// keep the saturation alert firing); a MetricProducer reports exactly what exists now.
import { ValueType, type Attributes } from '@opentelemetry/api'
import { AggregationTemporality, DataPointType, type CollectionResult, type DataPoint, type MetricData, type MetricProducer, type ResourceMetrics } from '@opentelemetry/sdk-metrics'
import { ROUTE_IDS } from '../../routes/contract.ts'
import type { FlagStore } from '../../routes/flags/flag-store.ts'
import { FLAG_MODES } from '../../core/flag-setting.ts'
import { METRICS, type MetricSpec } from './catalogue.ts'
import type { CircuitStates } from './circuit-states.ts'
import type { MetricSources, PoolStats } from './sources.ts'
import { tenantLabel } from './tenant-label.ts'

const READINESS = ['ok', 'degraded', 'down'] as const
const SHADOW_RUN_OUTCOMES = ['started', 'shed', 'answered', 'deferred', 'failed'] as const
const SCOPE = { name: 'arzti-fastpath/scrape-time' }
const NO_ATTRIBUTES: Attributes = Object.freeze({})

export class ScrapeTimeGauges implements MetricProducer {
  readonly #flags: FlagStore
  readonly #circuits: CircuitStates
  readonly #sources: MetricSources
  readonly #startTime: [number, number]

  constructor(flags: FlagStore, circuits: CircuitStates, sources: MetricSources) {
    this.#flags = flags
    this.#circuits = circuits
    this.#sources = sources
    this.#startTime = hrTime(Date.now())
  }

  async collect(): Promise<CollectionResult> {
    const now = hrTime(Date.now())
    const metrics: MetricData[] = []
    const errors: unknown[] = []
    const add = (spec: MetricSpec, read: (point: (value: number, attributes: Attributes) => void) => void): void => {
      const points: DataPoint<number>[] = []
      try {
        read((value, attributes) => points.push({ startTime: this.#startTime, endTime: now, attributes, value }))
      } catch (error) {
        // One broken source must not cost the scrape its other metrics.
        errors.push(error)
        return
      }
      metrics.push(metricData(spec, points))
    }

    add(METRICS.flagMode, (point) => {
      for (const route of ROUTE_IDS) {
        const current = this.#flags.get(route).mode
        for (const mode of FLAG_MODES) point(mode === current ? 1 : 0, { route, mode })
      }
    })
    add(METRICS.circuitState, (point) => {
      for (const [tenant, value] of this.#circuits.entries()) point(value, { tenant: tenantLabel(tenant) })
    })
    const { inFlight, pools, redisUp, shadowRuns, xmlMemo, readiness, responseCache } = this.#sources
    if (inFlight) add(METRICS.requestsInFlight, (point) => point(inFlight(), NO_ATTRIBUTES))
    const verdict = readiness?.()
    if (verdict !== undefined) add(METRICS.readiness, (point) => { for (const status of READINESS) point(status === verdict ? 1 : 0, { status }) })
    if (redisUp) add(METRICS.redisUp, (point) => point(redisUp() ? 1 : 0, NO_ATTRIBUTES))
    if (pools) {
      const stats = mergedByTenant(safely(pools, errors) ?? [])
      add(METRICS.poolConnections, (point) => { for (const pool of stats) point(pool.total, { tenant: tenantLabel(pool.tenant) }) })
      add(METRICS.poolIdleConnections, (point) => { for (const pool of stats) point(pool.idle, { tenant: tenantLabel(pool.tenant) }) })
      add(METRICS.poolWaitingRequests, (point) => { for (const pool of stats) point(pool.waiting, { tenant: tenantLabel(pool.tenant) }) })
    }
    if (xmlMemo) {
      const memo = safely(xmlMemo, errors)
      if (memo !== undefined) {
        add(METRICS.xmlMemoLookups, (point) => {
          point(memo.hits, { outcome: 'hit' })
          point(memo.misses, { outcome: 'miss' })
        })
        add(METRICS.xmlMemoBytes, (point) => point(memo.bytes, NO_ATTRIBUTES))
      }
    }
    if (responseCache) {
      const stats = safely(responseCache, errors)
      if (stats !== undefined) {
        add(METRICS.cacheRedisErrors, (point) => point(stats.redisErrors, NO_ATTRIBUTES))
        add(METRICS.cacheLoads, (point) => point(stats.loads, NO_ATTRIBUTES))
      }
    }
    if (shadowRuns) {
      add(METRICS.shadowRuns, (point) => {
        const counts = shadowRuns()
        for (const outcome of SHADOW_RUN_OUTCOMES) point(counts[outcome], { outcome })
      })
    }
    const resourceMetrics = { resource: undefined, scopeMetrics: [{ scope: SCOPE, metrics }] } as unknown as ResourceMetrics
    return { resourceMetrics, errors }
  }
}

function metricData(spec: MetricSpec, dataPoints: DataPoint<number>[]): MetricData {
  const descriptor = { name: spec.name, description: spec.help, unit: '', valueType: ValueType.DOUBLE }
  const aggregationTemporality = AggregationTemporality.CUMULATIVE
  return spec.kind === 'counter'
    ? { descriptor, aggregationTemporality, dataPointType: DataPointType.SUM, isMonotonic: true, dataPoints }
    : { descriptor, aggregationTemporality, dataPointType: DataPointType.GAUGE, dataPoints }
}

/**
 * Two roles on one database have two pools but one label; two series with one label set would make
 * Prometheus reject the whole scrape, so they are summed.
 */
function mergedByTenant(stats: readonly PoolStats[]): readonly PoolStats[] {
  const byTenant = new Map<string, { tenant: string; total: number; idle: number; waiting: number }>()
  for (const pool of stats) {
    const known = byTenant.get(pool.tenant)
    if (known === undefined) byTenant.set(pool.tenant, { ...pool })
    else {
      known.total += pool.total
      known.idle += pool.idle
      known.waiting += pool.waiting
    }
  }
  return [...byTenant.values()]
}

function safely<T>(read: () => T, errors: unknown[]): T | undefined {
  try {
    return read()
  } catch (error) {
    errors.push(error)
    return undefined
  }
}

function hrTime(ms: number): [number, number] {
  return [Math.floor(ms / 1000), (ms % 1000) * 1e6]
}
