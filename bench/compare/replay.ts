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
  const res = await request(proxyUrl + req.target, { dispatcher: replayAgent, headers: { authorization: basic(req.user) } })
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
 * An empty status write for the user's tenant (docs/legacy-contract.md §7: nothing changes, `processedCount` 0): the
 * proxy passes it to the legacy and voids the tenant's cached answers, so the next reads are cold.
 */
export async function voidCache(proxyUrl: string, user: string): Promise<void> {
  const res = await request(`${proxyUrl}/v2/rezept/status`, {
    dispatcher: replayAgent,
    method: 'PATCH',
    headers: { authorization: basic(user), 'content-type': 'application/json' },
    body: '{"updates":[]}',
  })
  await res.body.dump()
}

export function basic(user: string): string {
  return `Basic ${Buffer.from(user).toString('base64')}`
}
