// A background GET (or, for a route that reads a body, the same method with the same body bytes) to
// the legacy with the client's request headers, for sampled checks and for the
// re-read that tells a race from a mismatch. Its own small keep-alive agent: it never takes a socket
// the pass-through needs, and nobody waits on it but the comparison.
import http, { type IncomingHttpHeaders } from 'node:http'
import https from 'node:https'
import type { CaptureLoss, CapturedAnswer } from './legacy-capture.ts'

const NOT_FORWARDED = new Set(['connection', 'keep-alive', 'content-length', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'proxy-connection', 'host', 'expect'])

/** A read that is not a plain GET: its method and body, sent as they came. */
export interface ReadRequest {
  readonly method: string
  readonly body?: Buffer | undefined
}

export class LegacyReader {
  readonly #target: URL
  readonly #agent: http.Agent
  readonly #request: typeof http.request
  readonly #capBytes: number
  readonly #timeoutMs: number

  /**
   * `ca`: for an `https:` legacy, the only CAs trusted (upstream.caFile); the certificate is always
   * verified. `idleSocketTimeoutMs`: idle sockets closed after it, before the legacy closes them.
   */
  constructor(legacyUrl: string, options: { capBytes: number; timeoutMs: number; maxSockets: number; ca?: string | undefined; idleSocketTimeoutMs?: number }) {
    this.#target = new URL(legacyUrl)
    const secure = this.#target.protocol === 'https:'
    const pool = { keepAlive: true, maxSockets: options.maxSockets, ...(options.idleSocketTimeoutMs === undefined ? {} : { timeout: options.idleSocketTimeoutMs }) }
    this.#agent = secure
      ? new https.Agent({ ...pool, ...(options.ca === undefined ? {} : { ca: options.ca }) })
      : new http.Agent(pool)
    this.#request = secure ? https.request : http.request
    this.#capBytes = options.capBytes
    this.#timeoutMs = options.timeoutMs
  }

  /**
   * The legacy's answer to the same GET, or undefined when it failed, timed out or went over the cap.
   * `send`: another method and its body (a read such as PATCH /v2/rezept/statusuuid), sent with its own Content-Length.
   */
  async read(rawUrl: string, headers: IncomingHttpHeaders, signal?: AbortSignal, send?: ReadRequest): Promise<CapturedAnswer | undefined> {
    const answer = await this.readOrLoss(rawUrl, headers, signal, send)
    return typeof answer === 'string' ? undefined : answer
  }

  /** The same, saying why there is no answer: over the cap, or failed (refused, reset, timed out). */
  readOrLoss(rawUrl: string, headers: IncomingHttpHeaders, signal?: AbortSignal, send?: ReadRequest): Promise<CapturedAnswer | CaptureLoss> {
    const started = performance.now()
    const sent: Record<string, string | string[] | number> = {}
    for (const [name, value] of Object.entries(headers)) if (value !== undefined && !NOT_FORWARDED.has(name)) sent[name] = value
    if (send?.body !== undefined) sent['content-length'] = send.body.length
    return new Promise((resolve) => {
      const req = this.#request(
        { host: this.#target.hostname, port: this.#target.port, method: send?.method ?? 'GET', path: rawUrl, headers: sent, agent: this.#agent, timeout: this.#timeoutMs, ...(signal ? { signal } : {}) },
        (res) => {
          const chunks: Buffer[] = []
          let size = 0
          res.on('data', (chunk: Buffer) => {
            size += chunk.length
            if (size > this.#capBytes) {
              res.destroy()
              resolve('over-cap')
            } else chunks.push(chunk)
          })
          res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body: Buffer.concat(chunks, size), ms: performance.now() - started }))
          res.on('error', () => resolve('failed'))
        },
      )
      req.on('timeout', () => req.destroy())
      req.on('error', () => resolve('failed'))
      req.end(send?.body)
    })
  }

  close(): void {
    this.#agent.destroy()
  }
}
