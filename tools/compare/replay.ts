// Sends one replayed request to the proxy and times it on the client's side (first byte sent to last
// byte read), naming the path that answered from the proxy's Server-Timing header.
import { Agent, request } from 'undici'
import type { ReplayRequest } from './request-list.ts'

export type ServingPath = 'legacy' | 'fast' | 'cache'
export const SERVING_PATHS: readonly ServingPath[] = ['legacy', 'fast', 'cache']

export interface ReplayAnswer {
  readonly status: number
  readonly contentType: string | undefined
  readonly body: Buffer
  /** From Server-Timing; `unknown` when the proxy sent none (serverTiming off). */
  readonly path: ServingPath | 'unknown'
  readonly ms: number
}

/** One keep-alive connection at a time: latencies are the proxy's, not connection set-up. */
export const replayAgent = new Agent({ connections: 1, keepAliveTimeout: 30_000 })

export async function replay(proxyUrl: string, req: ReplayRequest): Promise<ReplayAnswer> {
  const started = performance.now()
  const headers: Record<string, string> = { authorization: basic(req.user) }
  if (req.body !== undefined) headers['content-type'] = 'application/json'
  const res = await request(proxyUrl + req.target, {
    dispatcher: replayAgent, headers,
    ...(req.method === undefined ? {} : { method: req.method as 'PATCH' }),
    ...(req.body === undefined ? {} : { body: req.body }),
  })
  const body = Buffer.from(await res.body.arrayBuffer())
  const ms = performance.now() - started
  const timing = String(res.headers['server-timing'] ?? '')
  const name = timing.slice(0, timing.indexOf(';') < 0 ? timing.length : timing.indexOf(';'))
  const contentType = res.headers['content-type']
  return {
    status: res.statusCode,
    contentType: typeof contentType === 'string' ? contentType : undefined,
    body,
    path: (SERVING_PATHS as readonly string[]).includes(name) ? (name as ServingPath) : 'unknown',
    ms,
  }
}

/**
 * Voids the user's tenant's cached answers on every instance: a status write the legacy carries out
 * (200) that changes nothing, for a prescription no tenant has. Only a 2xx prescription write voids
 * the cache (docs/security.md, issue 16), so the empty list the legacy refuses with 400 no longer does.
 */
export async function voidCache(proxyUrl: string, user: string): Promise<void> {
  const res = await request(`${proxyUrl}/v2/rezept/status`, {
    dispatcher: replayAgent,
    method: 'PATCH',
    headers: { authorization: basic(user), 'content-type': 'application/json' },
    body: NO_OP_STATUS_WRITE,
  })
  await res.body.dump()
  if (res.statusCode !== 200) throw new Error(`voiding the cache needs a 200 to the no-op status write, got ${res.statusCode}`)
}

const NO_OP_STATUS_WRITE = JSON.stringify({ updates: [{ rezeptUuid: '00000000-0000-0000-0000-000000000000', type: 'eMuster16', transferArz: null, status: null }] })

export function basic(user: string): string {
  return `Basic ${Buffer.from(user).toString('base64')}`
}
