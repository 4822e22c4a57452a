// One pg pool per distinct connection string (as Npgsql pools per string), with the simulator's type parsers.
import pg from 'pg'
import { parseNpgsqlConnectionString } from './npgsql-settings.ts'

// Column types handed over as their PostgreSQL text, untouched: bigints must keep every digit
// (docs/legacy-contract.md §1), dates and times are re-formatted as .NET writes them, never through a JS Date.
const TEXT_AS_IS = new Set([
  20, // int8
  1082, // date
  1083, // time
  1114, // timestamp
  1184, // timestamptz
  1700, // numeric
])

const simulatorTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
    if (TEXT_AS_IS.has(oid)) return (value: string) => value
    return pg.types.getTypeParser(oid, format ?? 'text') as (value: string) => unknown
  },
}

// Idle connections are closed after a while so the simulator does not hold the shared server's slots.
const IDLE_TIMEOUT_MS = 10_000

function watched(pool: pg.Pool): pg.Pool {
  // A connection dying while idle must not crash the simulator; the next query gets a fresh one.
  pool.on('error', () => {})
  return pool
}

/** The ArzSw pool, from a postgres:// URL. */
export function createArzswPool(url: string): pg.Pool {
  return watched(new pg.Pool({ connectionString: url, types: simulatorTypes, max: 20, idleTimeoutMillis: IDLE_TIMEOUT_MS }))
}

/**
 * Stands in for the pool of a connection string that does not parse: the legacy only fails when the
 * controller creates its DbContext, inside its try, so every use must fail there, not earlier.
 */
function unusablePool(error: Error): pg.Pool {
  const fail = () => Promise.reject(error)
  return { query: fail, connect: fail, end: () => Promise.resolve() } as unknown as pg.Pool
}

export class TenantPools {
  readonly #pools = new Map<string, pg.Pool>()

  /** The pool for a tenant's Npgsql connection string; one that fails every query when the string cannot be parsed. */
  forConnectionString(connectionString: string): pg.Pool {
    let pool = this.#pools.get(connectionString)
    if (pool === undefined) {
      let s
      try {
        s = parseNpgsqlConnectionString(connectionString)
      } catch (error) {
        return unusablePool(error as Error)
      }
      pool = watched(new pg.Pool({
        host: s.host, port: s.port, database: s.database, user: s.user, password: s.password,
        max: s.maxPoolSize, types: simulatorTypes, idleTimeoutMillis: IDLE_TIMEOUT_MS,
      }))
      this.#pools.set(connectionString, pool)
    }
    return pool
  }

  async closeAll(): Promise<void> {
    const pools = [...this.#pools.values()]
    this.#pools.clear()
    await Promise.all(pools.map((p) => p.end()))
  }
}
