// The readiness checks behind /readyz: the legacy answers its health route, ArzSw accepts a query,
// Redis answers a PING (each only when configured), every check bounded by a short timeout; and the
// verdict: ready means "can serve", so only an instance that can answer nothing is taken out.
import pg from 'pg'
import { request, type Dispatcher } from 'undici'

const CHECK_TIMEOUT_MS = 1500

/** ok: every check passed; degraded: one failed but the instance can serve; down: it cannot. */
export type ReadinessStatus = 'ok' | 'degraded' | 'down'

export interface Readiness {
  readonly ready: boolean
  readonly status: ReadinessStatus
  readonly checks: Readonly<Record<string, boolean>>
}

/**
 * The instance can serve when the legacy answers (everything can pass through), or when ArzSw
 * answers and a route is on the fast path. Redis never decides: without it flags and cache are per
 * instance and answers stay correct, and one shared Redis down would otherwise take every instance
 * out of the Service at once (issue 16 point 8).
 */
export function readinessOf(checks: Readonly<Record<string, boolean>>, fastRouteOn: boolean): Readiness {
  const canServe = checks.legacy === true || (fastRouteOn && checks.arzsw === true)
  const status: ReadinessStatus = !canServe ? 'down' : Object.values(checks).every(Boolean) ? 'ok' : 'degraded'
  return { ready: canServe, status, checks }
}

/** `dispatcher`: one that trusts upstream.caFile for an `https:` legacy; the global one otherwise. */
export async function legacyReachable(legacyUrl: string, dispatcher?: Dispatcher): Promise<boolean> {
  try {
    const answer = await request(new URL('/api/Health/arzsw', legacyUrl), {
      ...(dispatcher ? { dispatcher } : {}),
      headersTimeout: CHECK_TIMEOUT_MS,
      bodyTimeout: CHECK_TIMEOUT_MS,
    })
    await answer.body.dump()
    return answer.statusCode === 200
  } catch {
    return false
  }
}

export async function postgresReachable(url: string, timeoutMs = CHECK_TIMEOUT_MS): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.query('SELECT 1')
    return true
  } catch {
    return false
  } finally {
    await client.end().catch(() => {})
  }
}
