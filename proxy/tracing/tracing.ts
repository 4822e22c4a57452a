// Tracing (issue 23), started only with tracing.exporter `otlp`: the OpenTelemetry trace SDK with a
// batch processor and the OTLP/HTTP (JSON) exporter, the configured sampler, an AsyncLocalStorage
// context manager so the fast path's stages find their request, and one more consumer of the event
// bus that turns what the fast path reports (authentication, cache lookup, each statement, a
// deferral) into child spans of the request's span. No auto-instrumentation: nothing patches http or
// pg, so the pass-through's bytes and the fast path's work are the same with tracing on or off.
import { context, type Tracer } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { AlwaysOffSampler, AlwaysOnSampler, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider, type Sampler } from '@opentelemetry/sdk-trace'
import type { IncomingMessage } from 'node:http'
import type { TracingConfig } from '../../config/load.ts'
import type { EventBus, ProxyEvent } from '../../core/events.ts'
import type { RouteSpec } from '../../routes/route-table.ts'
import { tenantLabel } from '../metrics/tenant-label.ts'
import { activeRequestTrace, nowMs, RequestTrace } from './request-trace.ts'

export interface Tracing {
  /** The request's trace: its span started, its context ready for `run`. */
  begin(req: IncomingMessage, route: RouteSpec | null): RequestTrace
  /** Exports what is still queued, then stops (the context manager too). */
  shutdown(): Promise<void>
}

export function startTracing(settings: TracingConfig, events: EventBus): Tracing | undefined {
  if (settings.exporter === 'none') return undefined
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': settings.serviceName }),
    sampler: samplerOf(settings),
    spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter(settings.endpoint === undefined ? {} : { url: settings.endpoint }) })],
  })
  const manager = new AsyncLocalStorageContextManager().enable()
  context.setGlobalContextManager(manager)
  const tracer: Tracer = provider.getTracer('arzti-fastpath')
  const off = events.on(spansOfEvents)
  let stopped: Promise<void> | undefined
  return {
    begin: (req, route) => RequestTrace.ofRequest(tracer, req, route),
    shutdown() {
      stopped ??= (async () => {
        off()
        try {
          await provider.shutdown()
        } finally {
          context.disable()
        }
      })()
      return stopped
    },
  }
}

/** The bus consumer: an event reported inside a traced request becomes a child span or attribute of it. */
function spansOfEvents(event: ProxyEvent): void {
  if (event.type !== 'auth.checked' && event.type !== 'cache.lookup' && event.type !== 'db.query' && event.type !== 'fast.deferred' && event.type !== 'shadow.compared') return
  const request = activeRequestTrace()
  if (request === undefined) return
  switch (event.type) {
    case 'auth.checked':
      // cached: the outcome cache answered; verified/refreshed: BCrypt (or the ArzSw row) was asked.
      request.stage('authenticate', { 'fastpath.auth.outcome': event.outcome }, event.outcome === 'unavailable' || event.outcome === 'busy')
      return
    case 'cache.lookup':
      request.stage('cache lookup', { 'fastpath.cache.outcome': event.outcome, 'fastpath.cache.hit': event.outcome !== 'miss' && event.outcome !== 'stale' })
      // The tenant as /metrics names it: a hash of host:port/database, never the database's name.
      if (event.tenant !== undefined) request.span.setAttribute('fastpath.tenant', tenantLabel(event.tenant))
      return
    case 'db.query': {
      const end = nowMs()
      // The statement's name, never its text or values.
      request.childSpan(`SQL ${event.name}`, end - event.durationMs, end, { 'db.system.name': 'postgresql', 'db.operation.name': event.name }, !event.ok)
      request.stageAt = end
      return
    }
    case 'fast.deferred':
      request.deferred(event.reason)
      return
    case 'shadow.compared':
      request.compared(event.outcome)
  }
}

function samplerOf(settings: TracingConfig): Sampler {
  const ratio = new TraceIdRatioBasedSampler(settings.samplerArg)
  switch (settings.sampler) {
    case 'always_on': return new AlwaysOnSampler()
    case 'always_off': return new AlwaysOffSampler()
    case 'traceidratio': return ratio
    case 'parentbased_always_on': return new ParentBasedSampler({ root: new AlwaysOnSampler() })
    case 'parentbased_always_off': return new ParentBasedSampler({ root: new AlwaysOffSampler() })
    case 'parentbased_traceidratio': return new ParentBasedSampler({ root: ratio })
  }
}
