// The proxy's metrics: an OpenTelemetry meter provider whose only reader is the Prometheus exporter
// (no server of its own: the admin listener serves the text at GET /metrics), fed by the event bus
// and by the scrape-time sources.
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus'
import { MeterProvider } from '@opentelemetry/sdk-metrics'
import type { FlagStore } from '../../routes/flags/flag-store.ts'
import type { EventBus } from '../../core/events.ts'
import { CircuitStates } from './circuit-states.ts'
import { EventRecorder } from './event-recorder.ts'
import { ScrapeTimeGauges } from './scrape-time-gauges.ts'
import type { MetricSources } from './sources.ts'

export interface ProxyMetrics {
  /** The Prometheus text exposition (format 0.0.4) of every metric now. */
  text(): Promise<string>
  /** Unsubscribes from the bus and shuts the meter provider down. */
  shutdown(): Promise<void>
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

export function startProxyMetrics(options: { events: EventBus; flags: FlagStore; sources: MetricSources }): ProxyMetrics {
  const circuits = new CircuitStates()
  // Scope labels (otel_scope_name...) on every series and a target_info series would only add noise
  // to a single-service scrape.
  const exporter = new PrometheusExporter({
    preventServerStart: true,
    withoutScopeInfo: true,
    withoutTargetInfo: true,
    metricProducers: [new ScrapeTimeGauges(options.flags, circuits, options.sources)],
  })
  const serializer = new PrometheusSerializer(undefined, false, undefined, true, true)
  const provider = new MeterProvider({ readers: [exporter] })
  const recorder = new EventRecorder(provider.getMeter('arzti-fastpath'), circuits)
  const unsubscribe = recorder.subscribe(options.events)

  return {
    async text() {
      const { resourceMetrics } = await exporter.collect()
      return serializer.serialize(resourceMetrics)
    },
    async shutdown() {
      unsubscribe()
      await provider.shutdown()
    },
  }
}
