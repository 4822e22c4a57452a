// The pass-through to the legacy: http-proxy-3 over a keep-alive node:http(s) agent whose idle sockets
// close before the legacy's do, the request target sent byte for byte, headers in order, bodies
// streamed both ways, per-phase timeouts (connect, headers, body) answered as 502/504 in the legacy's
// plain-text style, one retry of a body-less read on a reused socket the legacy had just closed, and
// the upstream request cancelled when the client goes away. Before a request takes a connection it
// passes the gate (a fair share per client, a bounded wait: 503 UPSTREAM_BUSY), and a body
// that trickles is cut (408 REQUEST_BODY_TIMEOUT), so no client can hold the legacy's connections.
//
// Over 300 lines because the phases of one pass-through (gate, send, answer, retry, failure) share one
// per-request state and must be read together to see that every path frees its socket exactly once.
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import { PassThrough } from 'node:stream'
import https from 'node:https'
import type { TLSSocket } from 'node:tls'
import { ProxyServer } from 'http-proxy-3'
import type { EventBus } from '../core/events.ts'
import { PROXY_ERRORS, sendProxyError, type ProxyErrorCode } from '../core/errors.ts'
import { clientResponseHeaders, upstreamRequestHeaders } from './hop-by-hop.ts'
import { teeAnswer, type CaptureSink } from './shadow/legacy-capture.ts'
import { watchBodyPace, type BodyPaceSettings } from './limits/body-pace.ts'
import type { UpstreamGate } from './upstream-gate.ts'
import type { RequestTrace } from './tracing/request-trace.ts'
import { writesPrescriptions } from '../routes/prescription-writes.ts'

export interface UpstreamTimeouts {
  readonly connectTimeoutMs: number
  readonly headersTimeoutMs: number
  readonly bodyTimeoutMs: number
}

export interface LegacyUpstreamOptions {
  readonly legacyUrl: string
  /** For an `https:` legacy: the only CAs trusted (upstream.caFile); undefined: Node's built-in CAs. */
  readonly ca?: string
  readonly maxSockets: number
  /** An idle kept-alive socket is closed after this (upstream.idleSocketTimeoutMs). */
  readonly idleSocketTimeoutMs: number
  readonly events: EventBus
  /** Who may take a connection to the legacy now; every request passes it. */
  readonly gate: UpstreamGate
  /** Whose share a request counts against in the gate: a verified user, else its client address (anonymous). */
  readonly shareOf: (req: IncomingMessage) => { readonly client: string; readonly anonymous: boolean }
  /** The client address, for security events (limits.clientAddressHeader aware). */
  readonly clientAddress: (req: IncomingMessage) => string
  readonly bodyPace: BodyPaceSettings
  /** Read per request so a reload applies to the next request. */
  readonly settings: () => { readonly timeouts: UpstreamTimeouts; readonly forwardedHeaders: boolean; readonly serverTiming: boolean }
  /**
   * Called when a request that can change prescription rows (routes/prescription-writes.ts) got the
   * legacy's status line, or failed on its way (status undefined: the legacy may have committed
   * anyway). The answer is held until the returned promise settles, so whatever it invalidates is
   * gone before the client reads on.
   */
  readonly writeAnswered?: (authorization: string | undefined, status: number | undefined) => Promise<void>
}

/** Idempotent methods sent again once when a reused socket dies before any answer byte (RFC 9110 §9.2.2). */
const RETRIED = new Set(['GET', 'HEAD', 'OPTIONS'])
/** How a socket the legacy closed at that moment fails: reset, or closed without a word ("socket hang up"). */
const CLOSED_UNDER_US = new Set(['ECONNRESET', 'EPIPE'])

/** What the pass-through needs to know about one request; made once by the server. */
export interface Exchange {
  readonly requestId: string
  readonly hasRequestId: boolean
  readonly startedAt: number
  readonly json: boolean
  /** Shadow mode: receives a copy of the answer as it streams to the client (or why there is none). */
  readonly capture?: CaptureSink
  /**
   * The request body, already read whole by the server for a fast path (proxy/request-body.ts): sent
   * to the legacy in its place, byte for byte, under the request's own Content-Length.
   */
  readonly body?: Buffer
  /** Tracing on: the legacy call becomes its span, and its context goes to the legacy in `traceparent`. */
  readonly trace?: RequestTrace | undefined
}

interface PassState {
  exchange: Exchange
  res: ServerResponse
  phase: 'connect' | 'headers' | 'body'
  timedOut: 'headers' | 'body' | undefined
  proxyReq: http.ClientRequest | undefined
  timeouts: UpstreamTimeouts
  /** The Authorization of a request that writes prescriptions, kept for writeAnswered; undefined otherwise. */
  writer: { authorization: string | undefined } | undefined
  /** A GET, HEAD or OPTIONS without a body, not yet sent a second time: may be sent once more. */
  retryable: boolean
}

const STATE = Symbol('legacyPass')
type WithState = IncomingMessage & { [STATE]?: PassState }

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EADDRNOTAVAIL'])

/** OpenSSL's verdicts on a certificate it does not trust, as Node names them on the error. */
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_UNTRUSTED', 'CERT_REJECTED',
  'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_SIGNATURE_FAILURE', 'CERT_REVOKED',
  'INVALID_CA', 'INVALID_PURPOSE', 'HOSTNAME_MISMATCH', 'ERR_TLS_CERT_ALTNAME_INVALID',
])

/** A TLS failure to reach the legacy: an untrusted certificate, or a handshake OpenSSL gave up on. */
export function isUpstreamTlsFailure(code: string | undefined): boolean {
  return code !== undefined && (UNTRUSTED.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_'))
}

export class LegacyUpstream {
  readonly agent: http.Agent
  /** For a retry: a new connection every time (no keep-alive), bounded like the pool. */
  readonly #freshAgent: http.Agent
  readonly #proxy: ProxyServer
  readonly #options: LegacyUpstreamOptions
  readonly #target: URL

  constructor(options: LegacyUpstreamOptions) {
    this.#options = options
    this.#target = new URL(options.legacyUrl)
    // `timeout` closes a free socket idle that long (Node's agent destroys timed-out free sockets);
    // Kestrel's own idle close is 130 s, and a socket it closes just as we send on it costs a retry
    // or, for a write, a 502. A request's own socket timeouts (#onProxyReq) replace it while it runs.
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets, scheduling: 'lifo', timeout: options.idleSocketTimeoutMs } as const
    const freshOptions = { keepAlive: false, maxSockets: options.maxSockets } as const
    const ca = options.ca === undefined ? {} : { ca: options.ca }
    // http-proxy-3 sets rejectUnauthorized for an https: target; the agent's `ca` is the trust store.
    const secure = this.#target.protocol === 'https:'
    this.agent = secure ? new https.Agent({ ...agentOptions, ...ca }) : new http.Agent(agentOptions)
    this.#freshAgent = secure ? new https.Agent({ ...freshOptions, ...ca }) : new http.Agent(freshOptions)
    this.#proxy = new ProxyServer({
      target: this.#target,
      agent: this.agent,
      // The request target goes to the legacy exactly as received: no joining, no normalising.
      toProxy: true,
      prependPath: false,
      xfwd: false,
      selfHandleResponse: true,
    })
    // deleteLength would invent `Content-Length: 0` on DELETE/OPTIONS, XHeaders is done by us with
    // the configured switch, timeout is per phase here: keep only the pass that streams.
    // (`webPasses` is public at run time, private only in the typings.)
    const passes = this.#proxy as unknown as { webPasses: { name: string }[] }
    passes.webPasses = passes.webPasses.filter((pass) => pass.name === 'stream')
    this.#proxy.on('proxyReq', (proxyReq, req) => this.#onProxyReq(proxyReq, req as WithState))
    this.#proxy.on('proxyRes', (proxyRes, req, res) => this.#onProxyRes(proxyRes, req as WithState, res))
    // http-proxy-3 emits this when the client reset its socket mid-request: cancel quietly.
    this.#proxy.on('econnreset', (_error, req) => this.#fail(req as WithState, undefined, 'aborted'))
  }

  forward(req: IncomingMessage, res: ServerResponse, exchange: Exchange): void {
    const share = this.#options.shareOf(req)
    const leave = this.#options.gate.enter(
      share.client,
      share.anonymous,
      // The slot is held until the client's answer is done or the client has gone (below).
      (granted) => (res.destroyed ? granted() : this.#pass(req, res, exchange)),
      () => this.#busy(req, res, exchange),
    )
    res.once('close', leave)
  }

  /** The legacy's connections are all taken, or this client already holds its share: refuse at once. */
  #busy(req: IncomingMessage, res: ServerResponse, exchange: Exchange): void {
    if (res.destroyed) return
    this.#options.events.emit({ type: 'upstream.failed', kind: 'busy', status: 503, requestId: exchange.requestId, code: 'UPSTREAM_BUSY' })
    // An unread body would be taken for the next request on this connection.
    if (!req.complete) res.shouldKeepAlive = false
    sendProxyError(res, 'UPSTREAM_BUSY', exchange.json, { 'Retry-After': 1 })
  }

  #pass(req: IncomingMessage, res: ServerResponse, exchange: Exchange): void {
    const settings = this.#options.settings()
    const writes = this.#options.writeAnswered !== undefined && writesPrescriptions(req.method, req.url)
    const writer = writes ? { authorization: req.headers.authorization } : undefined
    const state: PassState = { exchange, res, phase: 'connect', timedOut: undefined, proxyReq: undefined, timeouts: settings.timeouts, writer, retryable: RETRIED.has(req.method ?? '') && !hasBody(req) }
    ;(req as WithState)[STATE] = state
    const forwarded = settings.forwardedHeaders
      ? { for: req.socket.remoteAddress ?? '', proto: (req.socket as TLSSocket).encrypted ? 'https' as const : 'http' as const, host: req.headers.host }
      : undefined
    // http-proxy-3 copies `req.headers`; giving it the ordered, duplicate-keeping set is what makes
    // the legacy see the client's header lines rather than Node's merged view of them.
    const headers = upstreamRequestHeaders(req.rawHeaders, exchange.requestId, exchange.hasRequestId, forwarded)
    exchange.trace?.legacyCall(headers)
    req.headers = headers as IncomingMessage['headers']
    // A client gone mid-request: the legacy connection is released now, not when the legacy ends it.
    res.once('close', () => {
      if (!res.writableFinished) this.#fail(req as WithState, undefined, 'aborted')
    })
    this.#send(req, res, settings.timeouts.connectTimeoutMs, this.agent, exchange.body)
    watchBodyPace(req, this.#options.bodyPace, () => this.#tooSlow(req as WithState, res, exchange))
  }

  /**
   * The body trickles: cut the request to the legacy (its connection is freed) and the client's
   * connection, answering 408 first when the legacy has not begun its answer.
   */
  #tooSlow(req: WithState, res: ServerResponse, exchange: Exchange): void {
    this.#options.events.emit({ type: 'security', kind: 'timeout', clientAddress: this.#options.clientAddress(req), requestId: exchange.requestId, detail: 'request body too slow' })
    // The rest of the body is never read: nothing else can follow on this connection.
    res.shouldKeepAlive = false
    if (req[STATE] !== undefined) this.#fail(req, undefined, 'REQUEST_BODY_TIMEOUT', res)
    else sendProxyError(res, 'REQUEST_BODY_TIMEOUT', exchange.json)
    if (res.writableFinished) req.socket.destroySoon()
  }

  #send(req: IncomingMessage, res: ServerResponse, connectTimeout: number, agent: http.Agent, body?: Buffer): void {
    // A body the server already read is piped from a stream of its bytes (http-proxy-3's `buffer`).
    const buffer = body === undefined ? {} : { buffer: bodyStream(body) }
    this.#proxy.web(req, res, { connectTimeout, agent, ...buffer }, (error, failedReq, failedRes) =>
      this.#onError(error, failedReq as WithState, failedRes as ServerResponse),
    )
  }

  /**
   * The legacy closed a kept-alive socket just as this request went out on it (its idle close, a
   * restart): nothing was answered, and for an idempotent request without a body nothing can have
   * happened that a second send could repeat harmfully. Once, on a new connection.
   */
  #retries(req: IncomingMessage, state: PassState, res: ServerResponse, code: string | undefined): boolean {
    return state.retryable && code !== undefined && CLOSED_UNDER_US.has(code) && state.proxyReq?.reusedSocket === true &&
      state.phase !== 'body' && state.timedOut === undefined && !res.headersSent && req.complete
  }

  #onProxyReq(proxyReq: http.ClientRequest, req: WithState): void {
    const state = req[STATE]
    if (!state) return
    state.proxyReq = proxyReq
    // Node holds a request's head until its first body byte; the legacy answers many requests (404,
    // 405, 401) without reading the body, at once. A client that announces a body and is slow to
    // send it would otherwise wait for the headers timeout and get a 504 the legacy never gives.
    if (!req.complete) proxyReq.flushHeaders()
    state.phase = proxyReq.reusedSocket || proxyReq.socket?.connecting === false ? 'headers' : 'connect'
    if (state.phase === 'connect') proxyReq.socket?.once('connect', () => (state.phase = 'headers'))
    // Socket idle time: while waiting for the status line it is the headers timeout, then the body's.
    proxyReq.setTimeout(state.timeouts.headersTimeoutMs, () => {
      if (state.phase === 'connect') return // the connect timer owns this phase
      state.timedOut = state.phase === 'body' ? 'body' : 'headers'
      if (state.timedOut === 'body') this.#fail(req, undefined, 'UPSTREAM_BODY_TIMEOUT', state.res)
      else proxyReq.destroy()
    })
  }

  #onProxyRes(proxyRes: IncomingMessage, req: WithState, res: ServerResponse): void {
    const state = req[STATE]
    if (!state) return
    state.phase = 'body'
    state.proxyReq?.setTimeout(state.timeouts.bodyTimeoutMs)
    state.exchange.trace?.legacyAnswered(proxyRes.statusCode)
    proxyRes.on('error', () => res.destroy())
    proxyRes.on('aborted', () => res.destroy())
    if (state.writer === undefined) return this.#answer(req, proxyRes, state, res)
    const writer = state.writer
    state.writer = undefined
    // The body stays unread in the socket meanwhile; the body timeout still bounds the wait.
    void this.#options.writeAnswered!(writer.authorization, proxyRes.statusCode).catch(() => {}).then(() => {
      if (!res.destroyed) this.#answer(req, proxyRes, state, res)
    })
  }

  #answer(req: WithState, proxyRes: IncomingMessage, state: PassState, res: ServerResponse): void {
    // The legacy answered before the client's body was all there (a 401 or 404 is given without
    // reading it): the legacy's connection cannot carry another request until that body is through,
    // and a body that trickles would hold it — past the gate's slot, which ends with the answer — until
    // the pace check cuts it, while the pool's own queue has no deadline (issue 16 point 1, found by
    // test/hardening/hostile-load.test.ts). So once the answer is sent, a body still coming is not
    // waited for: the legacy request is dropped (its connection freed) and the client's connection
    // closed, as the legacy would close it after an answer that left a body unread.
    if (!req.complete) {
      res.shouldKeepAlive = false
      res.once('finish', () => {
        if (req.complete) return
        req[STATE] = undefined
        state.proxyReq?.destroy()
        req.socket.destroySoon()
      })
    }
    const extra: string[] = []
    if (this.#options.settings().serverTiming) extra.push('Server-Timing', `legacy;dur=${(performance.now() - state.exchange.startedAt).toFixed(1)}`)
    if (!res.headersSent) {
      res.writeHead(proxyRes.statusCode ?? 502, proxyRes.statusMessage, clientResponseHeaders(proxyRes.rawHeaders, extra))
    }
    proxyRes.pipe(res)
    // After the pipe: its listeners run first, so the copy never comes before the client's bytes.
    if (state.exchange.capture) teeAnswer(proxyRes, state.exchange.startedAt, state.exchange.capture)
  }

  #onError(error: Error, req: WithState, res: ServerResponse): void {
    const state = req[STATE]
    if (!state) return
    const code = (error as NodeJS.ErrnoException).code
    if (res.destroyed || req.socket.destroyed) return this.#fail(req, error, 'aborted')
    if (this.#retries(req, state, res, code)) {
      state.retryable = false
      state.proxyReq = undefined
      state.phase = 'connect'
      return this.#send(req, res, state.timeouts.connectTimeoutMs, this.#freshAgent)
    }
    if (state.timedOut === 'headers') return this.#fail(req, error, 'UPSTREAM_HEADERS_TIMEOUT', res)
    if (state.timedOut === 'body') return this.#fail(req, error, 'UPSTREAM_BODY_TIMEOUT', res)
    if (code === 'ECONNECT_TIMEOUT') return this.#fail(req, error, 'UPSTREAM_CONNECT_TIMEOUT', res)
    if (code !== undefined && UNREACHABLE.has(code)) return this.#fail(req, error, 'UPSTREAM_UNREACHABLE', res)
    if (isUpstreamTlsFailure(code)) return this.#fail(req, error, 'UPSTREAM_TLS_FAILED', res)
    this.#fail(req, error, 'UPSTREAM_RESET', res)
  }

  #fail(req: WithState, error: Error | undefined, code: ProxyErrorCode | 'aborted', res?: ServerResponse): void {
    const state = req[STATE]
    if (!state) return
    req[STATE] = undefined
    state.proxyReq?.destroy()
    state.exchange.capture?.done('failed')
    state.exchange.trace?.legacyFailed(code)
    // The write may have reached the legacy and committed even though its answer did not arrive.
    if (state.writer !== undefined) void this.#options.writeAnswered!(state.writer.authorization, undefined).catch(() => {})
    if (code === 'aborted') {
      this.#options.events.emit({ type: 'upstream.failed', kind: 'aborted', status: 499, requestId: state.exchange.requestId })
      return
    }
    const kind = code === 'UPSTREAM_CONNECT_TIMEOUT' || code === 'UPSTREAM_UNREACHABLE' || code === 'UPSTREAM_TLS_FAILED' ? 'connect'
      : code === 'UPSTREAM_HEADERS_TIMEOUT' ? 'headers-timeout'
      : code === 'UPSTREAM_BODY_TIMEOUT' ? 'body-timeout'
      : code === 'REQUEST_BODY_TIMEOUT' ? 'slow-body'
      : 'reset'
    const headersSent = res?.headersSent ?? true
    const status = headersSent ? 0 : code === 'UPSTREAM_BODY_TIMEOUT' ? 502 : PROXY_ERRORS[code].status
    this.#options.events.emit({ type: 'upstream.failed', kind, status, requestId: state.exchange.requestId, code })
    if (res) {
      const extra: Record<string, string> = {}
      if (this.#options.settings().serverTiming) extra['Server-Timing'] = `legacy;dur=${(performance.now() - state.exchange.startedAt).toFixed(1)}`
      sendProxyError(res, code, state.exchange.json, extra)
    }
  }

  close(): void {
    this.agent.destroy()
    this.#freshAgent.destroy()
    this.#proxy.close()
  }
}

function bodyStream(body: Buffer): PassThrough {
  const stream = new PassThrough()
  stream.end(body)
  return stream
}

/** A body announced (the client's framing): it has been streamed away and cannot be sent again. */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length']
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined
}
