// The client-facing HTTP(S) server: gives each request an id, matches it to a route, asks the flag
// what to do, and lets the fast path answer, the legacy answer, or both (shadow). Also drains on
// shutdown: stop accepting, finish what is in flight (bounded), then close.
//
// Over 300 lines because one request's dispatch (route, flag, buffered body, fast answer or pass-through,
// shadow, trace) and the drain that must see every request in flight are read as one; the pieces with
// a life of their own (body reading, shadow running, tracing) already live in their own modules.
import { randomUUID } from 'node:crypto'
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import https from 'node:https'
import net, { type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { SecureContextOptions } from 'node:tls'
import type { FastAnswer, FastPath, FastPathRequest, RouteId } from '../routes/contract.ts'
import type { FlagStore } from '../routes/flags/flag-store.ts'
import { ambiguousCredentials } from '../auth/credential-lines.ts'
import { matchRoute, type RouteSpec } from '../routes/route-table.ts'
import type { EventBus, ServedBy } from '../core/events.ts'
import { PROXY_ERRORS, sendProxyError, wantsJson } from '../core/errors.ts'
import { listen } from './listen.ts'
import { readBoundedBody } from './request-body.ts'
import type { BodyPaceSettings } from './limits/body-pace.ts'
import type { Exchange, LegacyUpstream } from './legacy-upstream.ts'
import type { Refusal, RequestLimits } from './limits/request-limits.ts'
import { answerClientError, rememberPeer } from './limits/client-errors.ts'
import type { PerformanceEndpoints } from './performance-endpoints.ts'
import type { ShadowRunner } from './shadow-runner.ts'
import type { ShadowComparator } from './shadow/shadow-comparator.ts'
import type { Tracing } from './tracing/tracing.ts'

export interface ClientServerOptions {
  readonly host: string
  readonly port: number
  /** Certificate, key and minimum version: the listener speaks HTTPS only. Undefined: plain HTTP. */
  readonly tls?: SecureContextOptions
  readonly upstream: LegacyUpstream
  readonly flags: FlagStore
  readonly fastPaths: readonly FastPath[]
  readonly shadow: ShadowRunner
  /** Compares shadow runs with the legacy and samples fast answers; without it shadow runs are only counted. */
  readonly comparator?: ShadowComparator
  readonly events: EventBus
  readonly serverTiming: () => boolean
  /** Rate limits, failed-login throttle, body size and the per-tenant fast-path cap; none without it. */
  readonly limits?: RequestLimits
  /** Node's bounds on what a client may send and how slowly (limits.maxHeaderBytes, *TimeoutMs). */
  readonly http?: { readonly maxHeaderSize: number; readonly headersTimeout: number; readonly requestTimeout: number }
  /** How slowly a body the server reads for a fast path may arrive (the pass-through's own bounds); unbounded but for `http.requestTimeout` without it. */
  readonly bodyPace?: BodyPaceSettings
  /** GET /v2/performance/metrics and /v2/health/performance for admin users; others go to the legacy. */
  readonly performanceEndpoints?: PerformanceEndpoints
  /** Spans per request (tracing.exporter otlp); without it no span and no context work. */
  readonly tracing?: Tracing
}

export class ClientServer {
  readonly server: http.Server | https.Server
  readonly #options: ClientServerOptions
  readonly #fastPaths = new Map<RouteId, FastPath>()
  #closing = false
  /** Answers not yet finished; on shutdown each is told to close its connection when done. */
  readonly #open = new Set<ServerResponse>()
  /** Each connection and when its last answer ended (0 while one is being answered). */
  readonly #idleSince = new Map<Socket, number>()

  constructor(options: ClientServerOptions) {
    this.#options = options
    for (const path of options.fastPaths) this.#fastPaths.set(path.routeId, path)
    // Legacy clients poll every few minutes; keep-alive longer than the usual 5 s saves handshakes,
    // and it stays below typical load-balancer idle timeouts (60 s).
    const bounds = options.http
    const serverOptions: http.ServerOptions = {
      keepAliveTimeout: 55_000,
      requestTimeout: bounds?.requestTimeout ?? 0,
      ...(bounds ? {
        maxHeaderSize: bounds.maxHeaderSize,
        headersTimeout: bounds.headersTimeout,
        // Node checks both timeouts on this interval (default 30 s): a fraction of the shorter bound.
        connectionsCheckingInterval: Math.max(100, Math.min(5_000, Math.floor(bounds.headersTimeout / 4))),
      } : {}),
    }
    const handler = (req: IncomingMessage, res: ServerResponse) => this.#handle(req, res)
    // The TLS handshake comes before the request head and its timeout: bound it the same way
    // (Node's default lets a silent client hold a socket for 120 s).
    this.server = options.tls
      ? https.createServer({ ...serverOptions, ...options.tls, handshakeTimeout: bounds?.headersTimeout ?? 120_000 }, handler)
      : http.createServer(serverOptions, handler)
    // Requests Node's parser refuses are answered as Node would, and audited.
    this.server.on('clientError', (error: Error, socket) => answerClientError(error, socket, options.events))
    // CONNECT (authority-form) cannot be passed on as it came; without a listener Node would cut the
    // connection without a word (found by the fuzzer). Answer it as the other odd targets: 400.
    this.server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
      const text = PROXY_ERRORS.BAD_REQUEST_TARGET.clientText
      socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`)
    })
    // Over TLS the requests' socket is the TLS socket, which exists once the handshake is done.
    this.server.on(options.tls ? 'secureConnection' : 'connection', (socket: Socket) => {
      rememberPeer(socket)
      this.#idleSince.set(socket, performance.now())
      socket.once('close', () => this.#idleSince.delete(socket))
    })
  }

  get inFlight(): number {
    return this.#open.size
  }

  listen(): Promise<string> {
    return listen(this.server, this.#options.port, this.#options.host, this.#options.tls ? 'https' : 'http')
  }

  /** A reload's new certificate and key: new handshakes get them, open connections keep theirs. */
  setSecureContext(context: SecureContextOptions): void {
    if (this.server instanceof https.Server) this.server.setSecureContext(context)
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const startedAt = performance.now()
    this.#open.add(res)
    this.#idleSince.set(req.socket, 0)
    const incomingId = req.headers['x-request-id']
    const requestId = typeof incomingId === 'string' && incomingId !== '' ? incomingId : randomUUID()
    const served: { by: ServedBy } = { by: 'legacy' }
    const route = matchRoute(req.method, req.url)
    const trace = this.#options.tracing?.begin(req, route)
    res.once('close', () => {
      trace?.end(res.writableFinished ? res.statusCode : 499, served.by)
      this.#open.delete(res)
      if (res.writableFinished) this.#options.limits?.answered(req, res.statusCode, requestId)
      if (this.#idleSince.has(req.socket)) this.#idleSince.set(req.socket, performance.now())
      if (this.#options.events.listening) {
        this.#options.events.emit({
          type: 'request.served',
          routeId: route?.id ?? null,
          servedBy: served.by,
          status: res.writableFinished ? res.statusCode : 499,
          durationMs: performance.now() - startedAt,
          requestId,
          method: req.method ?? '',
        })
      }
    })
    const exchange: Exchange = { requestId, hasRequestId: incomingId !== undefined, startedAt, json: wantsJson(req.headers), trace }
    if (this.#closing) res.shouldKeepAlive = false
    // Traced: everything this request starts runs in its context, so the fast path's stages find it.
    if (trace) trace.run(() => this.#admit(req, res, route, exchange, served))
    else this.#admit(req, res, route, exchange, served)
  }

  #admit(req: IncomingMessage, res: ServerResponse, route: RouteSpec | null, exchange: Exchange, served: { by: ServedBy }): void {
    const requestId = exchange.requestId
    const verdict = this.#options.limits?.admit(req, requestId)
    if (verdict === undefined) return this.#dispatch(req, res, route, exchange, served)
    if (!(verdict instanceof Promise)) return this.#refuse(res, verdict, exchange)
    verdict.then(
      (refusal) => (refusal === undefined ? this.#dispatch(req, res, route, exchange, served) : this.#refuse(res, refusal, exchange)),
      () => this.#dispatch(req, res, route, exchange, served),
    )
  }

  #refuse(res: ServerResponse, refusal: Refusal, exchange: Exchange): void {
    const headers: Record<string, string | number> = refusal.retryAfterS === undefined ? {} : { 'Retry-After': refusal.retryAfterS }
    // The body is not read: the connection cannot carry another request after it.
    if (refusal.code === 'REQUEST_TOO_LARGE' || refusal.code === 'BAD_REQUEST_TARGET') res.shouldKeepAlive = false
    sendProxyError(res, refusal.code, exchange.json, headers)
  }

  #dispatch(req: IncomingMessage, res: ServerResponse, route: RouteSpec | null, exchange: Exchange, served: { by: ServedBy }): void {
    const { requestId, startedAt } = exchange
    if (!route && this.#options.performanceEndpoints?.claims(req.method, req.url)) {
      const forward = () => this.#options.upstream.forward(req, res, exchange)
      this.#options.performanceEndpoints.answer(req.method, req.url, req.headers).then((answer) => {
        if (answer === null) return forward()
        served.by = answer.servedBy
        this.#sendFast(res, answer, startedAt)
      }, forward)
      return
    }

    // A body on a GET route goes to the legacy: those fast paths answer reads without one (docs/legacy-contract.md §4, §5).
    const fastPath = route && (route.maxBodyBytes !== undefined || !hasBody(req)) ? this.#fastPaths.get(route.id) : undefined
    if (!route || !fastPath) return this.#options.upstream.forward(req, res, exchange)

    const decision = this.#options.flags.decide(route.id, req.headers.authorization)
    exchange.trace?.decided(this.#options.flags.get(route.id).mode)
    if (decision === 'legacy') return this.#options.upstream.forward(req, res, exchange)
    // The legacy refuses these (it joins the lines); a fast path would see only the first line, and
    // in shadow its answer would be compared with a refusal. Before the fast path: no work for it.
    if (ambiguousCredentials(req.rawHeaders)) {
      this.#options.events.emit({ type: 'fast.deferred', routeId: route.id, reason: 'ambiguous-credentials' })
      return this.#options.upstream.forward(req, res, exchange)
    }
    if (route.maxBodyBytes === undefined) return this.#take(req, res, route, fastPath, decision, exchange, served, undefined)
    // A route that reads a body (PATCH /v2/rezept/statusuuid): read it whole first, bounded; the legacy
    // then gets these bytes whether in shadow, on a deferral, or never (answered fast).
    const pace = this.#options.bodyPace
    const reading = readBoundedBody(req, route.maxBodyBytes, pace === undefined ? undefined : {
      settings: pace,
      // As the pass-through cuts a trickle (legacy-upstream.ts): 408, and the rest is never read.
      tooSlow: () => {
        res.shouldKeepAlive = false
        if (!res.headersSent) sendProxyError(res, 'REQUEST_BODY_TIMEOUT', exchange.json)
        req.socket.destroySoon()
      },
    })
    if (reading === undefined) {
      this.#options.events.emit({ type: 'fast.deferred', routeId: route.id, reason: 'body' })
      return this.#options.upstream.forward(req, res, exchange)
    }
    reading.then((body) => {
      // The client went away, or its body ended short: nobody to answer.
      if (body === undefined || res.destroyed) return
      this.#take(req, res, route, fastPath, decision, { ...exchange, body }, served, body)
    }, () => {})
  }

  #take(req: IncomingMessage, res: ServerResponse, route: RouteSpec, fastPath: FastPath, decision: 'shadow' | 'fast', exchange: Exchange, served: { by: ServedBy }, body: Buffer | undefined): void {
    const { requestId, startedAt } = exchange
    const request: FastPathRequest = { routeId: route.id, method: route.method, rawUrl: req.url ?? '/', headers: req.headers, ...(body === undefined ? {} : { body }) }
    if (decision === 'shadow') {
      const pair = this.#options.comparator?.pair(fastPath, request, requestId)
      this.#options.upstream.forward(req, res, pair ? { ...exchange, capture: pair.sink } : exchange)
      // Started once the client has its answer: run beside the legacy, the fast path's queries and
      // serialising compete with the legacy for CPU and database on the very request the client
      // waits for (+28-54 % p50 on a 2-core box, docs/shadow.md). The later read only widens the
      // window a race can fall into, and the race rule tells those apart.
      res.once('close', () => {
        const run = () => this.#options.shadow.run(fastPath, request, pair?.fastDone)
        const traced = exchange.trace?.shadowRun(route.id)
        if (traced) traced.run(run)
        else run()
      })
      return
    }

    // One tenant's burst may not take every database connection: over its cap the legacy answers.
    const slot = this.#options.limits?.fastSlot(req, requestId)
    if (slot === null) {
      this.#options.events.emit({ type: 'fast.deferred', routeId: route.id, reason: 'shed' })
      return this.#options.upstream.forward(req, res, exchange)
    }
    const cancel = new AbortController()
    const onClose = () => cancel.abort()
    res.once('close', onClose)
    fastPath.handle(request, cancel.signal).then(
      (outcome) => {
        slot?.()
        res.off('close', onClose)
        if (cancel.signal.aborted) return
        if (outcome.kind === 'answer') {
          served.by = outcome.servedBy
          // After the answer is written: the sampled check never delays it. A sampled answer is kept
          // for the comparison, so its memory is not handed back.
          const sent = this.#sendFast(res, outcome, startedAt)
          const kept = this.#options.comparator?.sample(fastPath, request, outcome, performance.now() - startedAt, requestId) ?? false
          if (!kept && outcome.release !== undefined) sent.then(outcome.release, () => {})
          return
        }
        this.#options.events.emit({ type: 'fast.deferred', routeId: route.id, reason: outcome.reason, ...(outcome.error ? { error: outcome.error } : {}) })
        this.#options.upstream.forward(req, res, exchange)
      },
      (error: unknown) => {
        // The contract says a fast path never throws; if one does, the legacy still answers.
        slot?.()
        res.off('close', onClose)
        if (cancel.signal.aborted) return
        this.#options.events.emit({ type: 'fast.deferred', routeId: route.id, reason: 'db-error', error: error instanceof Error ? error : new Error(String(error)) })
        this.#options.upstream.forward(req, res, exchange)
      },
    )
  }

  #endQuietConnections(): void {
    const now = performance.now()
    for (const [socket, since] of this.#idleSince) {
      if (since !== 0 && now - since > QUIET_MS) {
        this.#idleSince.delete(socket)
        socket.end()
        socket.destroySoon()
      }
    }
  }

  /** Resolves once the socket has taken every byte of the body; never, when the client went away first. */
  #sendFast(res: ServerResponse, answer: FastAnswer, startedAt: number): Promise<void> {
    const headers: Record<string, string | number> = { 'Content-Type': answer.contentType, 'Content-Length': answer.body.length }
    if (this.#options.serverTiming()) headers['Server-Timing'] = `${answer.servedBy};dur=${(performance.now() - startedAt).toFixed(1)}`
    res.writeHead(answer.status, headers)
    return new Promise((resolve) => res.end(answer.body, resolve))
  }

  /**
   * Stops accepting, lets requests in flight finish (answers now say `Connection: close`), and
   * after `graceMs` cuts whatever is left. Resolves when every connection is gone.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.#closing = true
    // Answers still to be written say `Connection: close`, so their connections end with them.
    for (const res of this.#open) if (!res.headersSent) res.shouldKeepAlive = false
    // Not http.Server#close: it also cuts idle keep-alive connections at once, and a request the
    // client is sending on one at that moment would be lost. Stop accepting only, then end a
    // connection once it has been quiet a while (a client that still uses it gets `close` answers).
    const closed = new Promise<void>((resolve) => net.Server.prototype.close.call(this.server, () => resolve()))
    const sweep = setInterval(() => this.#endQuietConnections(), QUIET_SWEEP_MS)
    const grace = setTimeout(() => this.server.closeAllConnections(), graceMs)
    await closed
    clearInterval(sweep)
    clearTimeout(grace)
  }
}

/** A connection idle this long during shutdown is ended: long past a busy client's next request. */
const QUIET_MS = 250
const QUIET_SWEEP_MS = 50

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length']
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined
}
