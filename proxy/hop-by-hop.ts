// Which headers belong to one connection rather than to the message (RFC 9110 §7.6.1), and the two
// header rewrites of the pass-through: the request as the legacy should see it, and the legacy's
// answer as the client should see it. Everything else is copied in order, duplicates kept.
import type { OutgoingHttpHeaders } from 'node:http'

/**
 * `expect` is here too: Node answers `100 Continue` to the client itself before the request
 * reaches us, so the expectation is met on the client's hop and the body is streamed on at once.
 * `transfer-encoding` is kept on requests: it is how node:http knows to re-chunk the body.
 */
const REQUEST_DROP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'expect', 'http2-settings'])
const RESPONSE_DROP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'transfer-encoding'])

export interface ForwardedFor {
  readonly for: string
  readonly proto: 'http' | 'https'
  readonly host: string | undefined
}

/**
 * The request headers for the legacy, from `rawHeaders`: names keep their case; a repeated name
 * becomes an array so node:http writes it as separate lines, in order. (Lines of one name are
 * grouped at the name's first position; interleaving between different names is not kept.)
 */
export function upstreamRequestHeaders(
  rawHeaders: readonly string[],
  requestId: string,
  hasRequestId: boolean,
  forwarded: ForwardedFor | undefined,
): OutgoingHttpHeaders {
  const connectionListed = listedInConnection(rawHeaders)
  const headers: OutgoingHttpHeaders = {}
  const nameOf = new Map<string, string>()
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!
    const lower = name.toLowerCase()
    if (REQUEST_DROP.has(lower) || connectionListed?.has(lower)) continue
    const value = rawHeaders[i + 1]!
    const first = nameOf.get(lower)
    if (first === undefined) {
      nameOf.set(lower, name)
      headers[name] = value
    } else {
      const existing = headers[first]
      headers[first] = Array.isArray(existing) ? [...existing, value] : [existing as string, value]
    }
  }
  if (!hasRequestId) headers['X-Request-Id'] = requestId
  if (forwarded) {
    appendForwarded(headers, nameOf, 'x-forwarded-for', 'X-Forwarded-For', forwarded.for)
    appendForwarded(headers, nameOf, 'x-forwarded-proto', 'X-Forwarded-Proto', forwarded.proto)
    if (!nameOf.has('x-forwarded-host') && forwarded.host !== undefined) headers['X-Forwarded-Host'] = forwarded.host
  }
  return headers
}

/** The legacy's answer headers for the client as a flat [name, value, ...] list, order and case kept. */
export function clientResponseHeaders(rawHeaders: readonly string[], extra: readonly string[]): string[] {
  const connectionListed = listedInConnection(rawHeaders)
  const out: string[] = []
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const lower = rawHeaders[i]!.toLowerCase()
    if (RESPONSE_DROP.has(lower) || connectionListed?.has(lower)) continue
    out.push(rawHeaders[i]!, rawHeaders[i + 1]!)
  }
  for (const item of extra) out.push(item)
  return out
}

/** Extra hop-by-hop names a `Connection: x, y` header lists, or undefined (the usual case). */
function listedInConnection(rawHeaders: readonly string[]): Set<string> | undefined {
  let listed: Set<string> | undefined
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.length !== 10 || rawHeaders[i]!.toLowerCase() !== 'connection') continue
    for (const token of rawHeaders[i + 1]!.split(',')) {
      const name = token.trim().toLowerCase()
      if (name !== '' && name !== 'close' && name !== 'keep-alive') (listed ??= new Set()).add(name)
    }
  }
  return listed
}

function appendForwarded(headers: OutgoingHttpHeaders, nameOf: Map<string, string>, lower: string, name: string, value: string): void {
  const existingName = nameOf.get(lower)
  if (existingName === undefined) {
    headers[name] = value
    return
  }
  const existing = headers[existingName]
  const joined = Array.isArray(existing) ? existing.join(', ') : String(existing)
  headers[existingName] = `${joined}, ${value}`
}
