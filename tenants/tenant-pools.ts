// One pg pool per distinct tenant database, created on first use, bounded in size and count, closed when idle.
import pg from 'pg'
import type { TenantDatabase } from './npgsql-connection-string.ts'
import type { TenantPoolSettings } from '../config/fast-path.ts'

/** The startup options of every tenant connection (the fast path's own planner settings; why: below). */
export const FAST_PATH_SESSION_OPTIONS = '-c DateStyle=ISO,MDY -c jit=off -c random_page_cost=1.1'

/** fastPath.pool.* (config/schema.ts), checked by config/load.ts: taken as given. */
export type TenantPoolOptions = TenantPoolSettings

interface Entry {
  readonly pool: pg.Pool
  /** host:port/database: what metrics may show (the map key holds the password). */
  readonly label: string
  lastUsed: number
}

export class TenantPools {
  readonly #options: TenantPoolOptions
  // Keyed by the database identity (host, port, database, user, password), never by the raw string:
  // two spellings of one database share a pool, two databases never do (docs/architecture.md invariant 2).
  readonly #pools = new Map<string, Entry>()
  readonly #sweeper: NodeJS.Timeout

  constructor(options: TenantPoolOptions) {
    this.#options = options
    this.#sweeper = setInterval(() => this.#closeIdle(), Math.max(1000, Math.min(options.idleTimeoutMs, 30_000)))
    this.#sweeper.unref()
  }

  get size(): number {
    return this.#pools.size
  }

  /** Size, idle and waiting per open pool, labelled by host:port/database, for the metrics. */
  stats(): Array<{ tenant: string; total: number; idle: number; waiting: number }> {
    const stats: Array<{ tenant: string; total: number; idle: number; waiting: number }> = []
    for (const { pool, label } of this.#pools.values()) stats.push({ tenant: label, total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount })
    return stats
  }

  poolFor(database: TenantDatabase): pg.Pool {
    const now = Date.now()
    const known = this.#pools.get(database.identity)
    if (known !== undefined) {
      known.lastUsed = now
      return known.pool
    }
    if (this.#pools.size >= this.#options.maxPools) this.#evictLeastRecentlyUsed()
    const pool = new pg.Pool({
      host: database.host,
      port: database.port,
      database: database.database,
      user: database.user,
      ...(database.password === undefined ? {} : { password: database.password }),
      max: this.#options.maxSize,
      idleTimeoutMillis: this.#options.idleTimeoutMs,
      connectionTimeoutMillis: this.#options.connectTimeoutMs,
      statement_timeout: this.#options.statementTimeoutMs,
      // statement_timeout bounds the server's work only: on a slow network (or a server too busy to
      // answer) the client would wait without end. Twice the budget leaves room to transfer the rows.
      query_timeout: 2 * this.#options.statementTimeoutMs,
      // Date and time columns are read as text: keep PostgreSQL's ISO form whatever the server default.
      // JIT compiles for ~80 ms on the deep-page plans of a 1M-row tenant to save nothing, and with the
      // default random_page_cost the planner hashes every billed status row instead of probing the
      // index a few thousand times (count 206 ms → 14 ms on E-Rezept; docs/fast-path.md).
      ...(this.#options.sessionOptions ? { options: FAST_PATH_SESSION_OPTIONS } : {}),
      application_name: 'arzti-fastpath',
    })
    // An idle client losing its connection (database restarted) must not crash the process.
    pool.on('error', () => {})
    this.#pools.set(database.identity, { pool, label: database.label, lastUsed: now })
    return pool
  }

  #evictLeastRecentlyUsed(): void {
    let oldestKey: string | undefined
    let oldest = Infinity
    for (const [key, entry] of this.#pools) {
      if (entry.lastUsed < oldest) {
        oldest = entry.lastUsed
        oldestKey = key
      }
    }
    if (oldestKey !== undefined) this.#drop(oldestKey)
  }

  #closeIdle(): void {
    const cutoff = Date.now() - this.#options.idleTimeoutMs
    for (const [key, entry] of this.#pools) {
      if (entry.lastUsed < cutoff && entry.pool.waitingCount === 0 && entry.pool.idleCount === entry.pool.totalCount) this.#drop(key)
    }
  }

  #drop(key: string): void {
    const entry = this.#pools.get(key)
    if (entry === undefined) return
    this.#pools.delete(key)
    // Requests holding a client finish first: pg's end() waits for checked-out clients.
    entry.pool.end().catch(() => {})
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper)
    const ends = [...this.#pools.values()].map((entry) => entry.pool.end().catch(() => {}))
    this.#pools.clear()
    await Promise.all(ends)
  }
}
