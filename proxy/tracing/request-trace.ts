// One request's trace: the server span named by route, its W3C parent taken from the client's
// `traceparent`, the legacy call as a client span whose context goes to the legacy in `traceparent`,
// and the stage spans the bus consumer (event-spans.ts) hangs below it. Exists only with tracing on:
// with it off the client server holds `undefined` and does no context work at all.
//
// What a span may carry is bounded here: the route's template or a label built from a closed
// vocabulary (never a raw path with ids), no query, no header values, no credentials.
import { context, createContextKey, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Context, type Span, type SpanOptions, type TextMapGetter, type TextMapSetter, type Tracer } from '@opentelemetry/api'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http'
import type { ServedBy } from '../../core/events.ts'
import type { RouteSpec } from '../../routes/route-table.ts'

const TRACE_KEY = createContextKey('arzti-fastpath request trace')
const propagator = new W3CTraceContextPropagator()
const getter: TextMapGetter<IncomingHttpHeaders> = {
  keys: (headers) => Object.keys(headers),
  get: (headers, key) => headers[key],
}
const setter: TextMapSetter<OutgoingHttpHeaders> = { set: (headers, key, value) => { headers[key] = value } }

/** The semantic conventions' known methods; anything else is `_OTHER` (a client picks the method). */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'])

/** Path words of the legacy's routes (legacy-sim/route-table.ts, docs/legacy-contract.md); any other segment is `{id}` or `{other}`. */
const PATH_WORDS = new Set([
  'v1', 'v2', 'v3', 'api', 'prescriptions', 'rezept', 'rezepte', 'status', 'statusuuid', 'new', 'mark-as-read', 'set-abgerechnet',
  'apotheken', 'by-ik', 'health', 'arzsw', 'live', 'ready', 'system', 'performance', 'metrics', 'swagger',
  'index.html', 'swagger.json',
])

/** The request trace of the running code (the bus consumer's way to its request), or undefined. */
export function activeRequestTrace(): RequestTrace | undefined {
  return context.active().getValue(TRACE_KEY) as RequestTrace | undefined
}

/** Milliseconds since the epoch, sub-millisecond: what spans take as start and end times. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now()
}

export class RequestTrace {
  readonly span: Span
  /** The request's context: its span, and this trace for the stage spans below it. */
  readonly context: Context
  readonly #tracer: Tracer
  readonly #method: string
  #legacy: Span | undefined
  /** Where the next stage span (authentication, cache lookup) begins: the end of the previous one. */
  stageAt: number
  /** A shadow run's trace: ended by its comparison's outcome. */
  readonly #shadow: boolean

  static ofRequest(tracer: Tracer, req: IncomingMessage, route: RouteSpec | null): RequestTrace {
    // From the root, not context.active(): a request is an entry point, and whatever context the
    // server's callback happens to run in (another request's, via a shared resource) is not its parent.
    const parent = propagator.extract(ROOT_CONTEXT, req.headers, getter)
    const method = METHODS.has(req.method ?? '') ? req.method! : '_OTHER'
    const rawUrl = req.url ?? '/'
    const q = rawUrl.indexOf('?')
    const path = q < 0 ? rawUrl : rawUrl.slice(0, q)
    const label = route ? route.path : routeLabel(path)
    return new RequestTrace(tracer, method, `${method} ${label}`, {
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': method,
        'http.route': label,
        // A fast route's path is its template; a passed-through path keeps only the legacy's words.
        'url.path': label,
        'fastpath.route_id': route?.id ?? 'pass-through',
      },
    }, parent, false)
  }

  private constructor(tracer: Tracer, method: string, name: string, options: SpanOptions, parent: Context, shadow: boolean) {
    this.#tracer = tracer
    this.#method = method
    this.#shadow = shadow
    this.span = tracer.startSpan(name, options, parent)
    this.context = trace.setSpan(parent, this.span).setValue(TRACE_KEY, this)
    this.stageAt = nowMs()
  }

  /**
   * The shadow run of this request, started once the client has the legacy's answer: a trace of its
   * own (the request's is over by then) linked to this request's span, the fast path's stages below
   * it, ended when its comparison reports the outcome. Undefined when this request was sampled out.
   * (A run whose comparison never reports — no comparator — is never ended, so never exported.)
   */
  shadowRun(routeId: string): RequestTrace | undefined {
    // The request's span has ended by now (isRecording is false): its sampled flag tells.
    if ((this.span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return undefined
    return new RequestTrace(this.#tracer, this.#method, `shadow ${routeId}`, {
      kind: SpanKind.INTERNAL,
      links: [{ context: this.span.spanContext() }],
      attributes: { 'fastpath.route_id': routeId },
    }, ROOT_CONTEXT, true)
  }

  /** The shadow comparison's outcome (core/events.ts ShadowOutcome); ends a shadow run's span, ignored elsewhere. */
  compared(outcome: string): void {
    if (!this.#shadow) return
    this.span.setAttribute('fastpath.shadow.outcome', outcome)
    if (outcome === 'mismatch') this.span.setStatus({ code: SpanStatusCode.ERROR })
    this.span.end()
  }

  /**
   * Runs `work` (and everything it starts) with this request's context active, so the stage spans
   * find it. A request sampled out records no stage: no context work for it either (its legacy call
   * still carries a traceparent, with the sampled flag off, from this trace's explicit context).
   */
  run(work: () => void): void {
    if (this.span.isRecording()) context.with(this.context, work)
    else work()
  }

  /** The route's flag and what it decided; the fast path's stages start here. */
  decided(flagMode: string): void {
    this.span.setAttribute('fastpath.flag_mode', flagMode)
    this.stageAt = nowMs()
  }

  /** A stage of the fast path that just ended (it began where the last one ended): a child span. */
  stage(name: string, attributes: Record<string, string | number | boolean>, failed = false): void {
    const end = nowMs()
    this.childSpan(name, this.stageAt, end, attributes, failed)
    this.stageAt = end
  }

  childSpan(name: string, start: number, end: number, attributes: Record<string, string | number | boolean>, failed: boolean): void {
    if (!this.span.isRecording()) return
    const span = this.#tracer.startSpan(name, { kind: SpanKind.INTERNAL, startTime: start, attributes }, this.context)
    if (failed) span.setStatus({ code: SpanStatusCode.ERROR })
    span.end(end)
  }

  /**
   * The pass-through is about to send `headers` to the legacy: a client span for the call, and its
   * context in `traceparent` (and `tracestate`) in place of the client's, so the legacy's own traces
   * join this one. Everything else in the headers stays as it was.
   */
  legacyCall(headers: OutgoingHttpHeaders): void {
    this.#legacy?.end()
    for (const name of Object.keys(headers)) {
      const lower = name.toLowerCase()
      if (lower === 'traceparent' || lower === 'tracestate') delete headers[name]
    }
    this.#legacy = this.#tracer.startSpan(`${this.#method} legacy`, {
      kind: SpanKind.CLIENT,
      attributes: { 'http.request.method': this.#method, 'fastpath.upstream': 'legacy' },
    }, this.context)
    propagator.inject(trace.setSpan(this.context, this.#legacy), headers, setter)
  }

  legacyAnswered(status: number | undefined): void {
    if (status !== undefined) this.#legacy?.setAttribute('http.response.status_code', status)
  }

  /** The pass-through failed (timeout, reset, client gone): the code names it (core/errors.ts). */
  legacyFailed(code: string): void {
    if (this.#legacy === undefined) return
    this.#legacy.setAttribute('error.type', code)
    this.#legacy.setStatus({ code: SpanStatusCode.ERROR })
    this.#legacy.end()
    this.#legacy = undefined
  }

  deferred(reason: string): void {
    this.span.setAttribute('fastpath.defer_reason', reason)
  }

  /** The client's answer is done (or the client went: 499). */
  end(status: number, servedBy: ServedBy): void {
    this.#legacy?.end()
    this.#legacy = undefined
    this.span.setAttribute('http.response.status_code', status)
    this.span.setAttribute('fastpath.served_by', servedBy)
    if (status >= 500) this.span.setStatus({ code: SpanStatusCode.ERROR })
    this.span.end()
  }
}

/**
 * A bounded route label for a passed-through path: at most four segments, each a word of the
 * legacy's routes, `{id}` (it has a digit) or `{other}`; longer paths end in `/…`.
 */
export function routeLabel(path: string): string {
  const segments = path.split('/').filter((segment) => segment !== '')
  const shown = segments.slice(0, 4).map((segment) => {
    const lower = segment.toLowerCase()
    if (PATH_WORDS.has(lower)) return lower
    return /[0-9]/.test(segment) ? '{id}' : '{other}'
  })
  return `/${shown.join('/')}${segments.length > 4 ? '/…' : ''}`
}
