// The readiness checks behind /readyz: the legacy answers its health route, ArzSw accepts a query,
// Redis answers a PING (each only when configured), every check bounded by a short timeout.
import pg from 'pg'
import { request, type Dispatcher } from 'undici'

const CHECK_TIMEOUT_MS = 1500

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

export async function postgresReachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CHECK_TIMEOUT_MS, query_timeout: CHECK_TIMEOUT_MS })
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
