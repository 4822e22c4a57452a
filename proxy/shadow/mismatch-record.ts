// One mismatch (or race) as an engineer can act on it: route, time, user login (never the
// password), the request as a curl line without credentials, both sides' status and latency, the
// differing JSON paths, the flag; bodies as length and sha256 unless full bodies are enabled.
import { createHash } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import type { RouteId } from '../../routes/contract.ts'
import type { Difference } from './answer-comparison.ts'
import type { FirstDifference } from './first-difference.ts'

export interface SideSummary {
  readonly status: number
  readonly contentType: string | null
  readonly ms: number
  readonly length: number
  readonly sha256: string
}

export interface MismatchRecord {
  readonly id: string
  readonly at: string
  readonly routeId: RouteId
  readonly outcome: 'mismatch' | 'race'
  /** shadow: the client got the legacy's answer; sample: the client got the fast answer (on/canary). */
  readonly kind: 'shadow' | 'sample'
  readonly user: string | null
  readonly flag: string
  readonly requestId: string | null
  readonly curl: string
  readonly legacy: SideSummary
  readonly fast: SideSummary & { readonly servedBy: string }
  /** Where the answers first differ, its class (`escaping`, `status-row`, …) and masked context. */
  readonly firstDifference: FirstDifference
  readonly differences: readonly Difference[]
  readonly differencesTotal: number
  /** Only when an operator enabled full bodies; dropped after the retention limit. */
  bodies?: { readonly legacy: string; readonly fast: string }
}

export function summarise(side: { status: number; contentType: string | undefined; body: Buffer; ms: number }): SideSummary {
  return {
    status: side.status,
    contentType: side.contentType ?? null,
    ms: Math.round(side.ms * 10) / 10,
    length: side.body.length,
    sha256: createHash('sha256').update(side.body).digest('hex'),
  }
}

/** The login of a Basic Authorization header (before the first colon); null for anything else. */
export function loginOf(authorization: string | undefined): string | null {
  const match = authorization === undefined ? null : /^basic +(\S+)$/i.exec(authorization.trim())
  if (!match) return null
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  return colon < 0 ? null : decoded.slice(0, colon)
}

// Credentials and what only makes sense on the original connection stay out of the line.
const LEFT_OUT = new Set(['authorization', 'proxy-authorization', 'cookie', 'host', 'connection', 'keep-alive', 'content-length',
  'transfer-encoding', 'upgrade', 'te', 'trailer'])

/**
 * `curl -sS -i 'http://legacy/v2/rezept?...' -H '...' -u 'login'`: without a password curl asks for
 * it, so the line replays the request without carrying the secret.
 */
export function curlLine(baseUrl: string, rawUrl: string, headers: IncomingHttpHeaders): string {
  // The target as received, not normalised by URL: the replay must send the same bytes.
  const parts = ['curl', '-sS', '-i', '--path-as-is', quote(new URL(baseUrl).origin + rawUrl)]
  for (const [name, value] of Object.entries(headers)) {
    if (LEFT_OUT.has(name) || value === undefined) continue
    for (const one of Array.isArray(value) ? value : [value]) parts.push('-H', quote(`${name}: ${one}`))
  }
  const login = loginOf(typeof headers.authorization === 'string' ? headers.authorization : undefined)
  if (login !== null) parts.push('-u', quote(login))
  else if (headers.authorization !== undefined) parts.push("-H 'Authorization: <left out>'")
  return parts.join(' ')
}

function quote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`
}
