// A test client that sends a request exactly as written (target bytes, header lines and their order,
// duplicates, chunked or 100-continue bodies) and returns the answer's status, raw headers and body.
import http from 'node:http'
import https from 'node:https'

export interface RawRequest {
  readonly method: string
  /** Sent as is; non-ASCII must be given as latin1 characters (one per byte). */
  readonly target: string
  /** Flat [name, value, name, value, ...] list, order and duplicates kept. */
  readonly headers?: readonly string[]
  /** One Buffer: sent with Content-Length; several: sent chunked. */
  readonly body?: Buffer | readonly Buffer[]
  /** Send `Expect: 100-continue` and the body only after the 100. */
  readonly expectContinue?: boolean
}

export interface RawAnswer {
  readonly status: number
  readonly headers: readonly [string, string][]
  readonly body: Buffer
  readonly sawContinue: boolean
}

/** An `https:` base URL is reached over TLS trusting only `ca` (PEM) when given. */
export function rawExchange(baseUrl: string, request: RawRequest, timeoutMs = 15_000, ca?: string): Promise<RawAnswer> {
  const base = new URL(baseUrl)
  const transport = base.protocol === 'https:' ? https : http
  // With an array of headers node:http adds no Host itself, and node servers refuse HTTP/1.1 without one.
  const headers = request.headers?.some((h, i) => i % 2 === 0 && h.toLowerCase() === 'host') ? [...request.headers] : ['Host', base.host, ...(request.headers ?? [])]
  const body = request.body
  if (Buffer.isBuffer(body)) headers.push('Content-Length', String(body.length))
  else if (body) headers.push('Transfer-Encoding', 'chunked')
  if (request.expectContinue) headers.push('Expect', '100-continue')
  return new Promise((resolve, reject) => {
    let sawContinue = false
    const req = transport.request({
      ...(ca === undefined ? {} : { ca }),
      host: base.hostname,
      port: base.port,
      method: request.method,
      path: request.target,
      headers: headers as string[],
      agent: false,
      timeout: timeoutMs,
    })
    const writeBody = () => {
      if (Buffer.isBuffer(body)) req.end(body)
      else if (body) {
        for (const chunk of body) req.write(chunk)
        req.end()
      } else req.end()
    }
    req.on('continue', () => {
      sawContinue = true
      writeBody()
    })
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)))
    req.on('error', reject)
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', reject)
      res.on('end', () => {
        const pairs: [string, string][] = []
        for (let i = 0; i < res.rawHeaders.length; i += 2) pairs.push([res.rawHeaders[i]!, res.rawHeaders[i + 1]!])
        resolve({ status: res.statusCode ?? 0, headers: pairs, body: Buffer.concat(chunks), sawContinue })
      })
    })
    if (!request.expectContinue) writeBody()
  })
}

/** Headers that legitimately differ between a direct and a proxied answer. */
const HOP_OR_VOLATILE = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding', 'server-timing'])

export function comparableHeaders(headers: readonly [string, string][]): string[] {
  return headers.filter(([name]) => !HOP_OR_VOLATILE.has(name.toLowerCase())).map(([name, value]) => `${name.toLowerCase()}: ${value}`)
}

export function headerValue(headers: readonly [string, string][], name: string): string | undefined {
  return headers.find(([n]) => n.toLowerCase() === name)?.[1]
}

/** The legacy's "now" timestamps (docs/legacy-contract.md §4) and a problem body's traceId differ per call: mask them. */
export function maskVolatile(body: Buffer): string {
  return body
    .toString('latin1')
    .replace(/"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,7})?Z"/g, '"<now>"')
    .replace(/"traceId":"[^"]*"/g, '"traceId":"<trace>"')
}

export function basic(login: string, password: string): string {
  return `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`
}
