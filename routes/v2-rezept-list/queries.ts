// The statements the fast path sends to a tenant's database: the snapshot, each type's page and count
// (the counts through the snapshot count cache), each timed as a db.query event.
import type pg from 'pg'
import type { EventBus } from '../../core/events.ts'
import { newPrescriptionStatements, SNAPSHOT_STATEMENT, type NewPrescriptionStatements } from '../../sql/queries/new-prescriptions.ts'
import { PRESCRIPTION_TYPES, type PrescriptionType } from '../../sql/queries/prescription-types.ts'
import type { TenantDatabase } from '../../tenants/npgsql-connection-string.ts'
import type { TypePage } from './answer.ts'
import { SnapshotCountCache } from './count-cache.ts'
import type { ListRequest } from './request.ts'
import { RAW_TEXT } from '../../tenants/raw-text-types.ts'


const STATEMENTS: ReadonlyMap<PrescriptionType, NewPrescriptionStatements> = new Map(PRESCRIPTION_TYPES.map((t) => [t, newPrescriptionStatements(t)]))

type Rows = Array<Array<string | null>>

/**
 * The caller's signal was aborted before a statement was sent. A statement already running is not
 * cancelled: pg cancels only through a CancelRequest on a second connection to the server, which
 * costs about what the fast path's statements do (~1 ms pages, tens of ms for a count), so the work
 * stops at the next statement instead.
 */
export class RequestAborted extends Error {
  constructor() {
    super('the caller withdrew before the statement was sent')
  }
}

export interface TenantQueriesOptions {
  readonly events: EventBus
  /** Named (server-side prepared) statements. */
  readonly preparedStatements: boolean
  /** Reuse per-type counts while PostgreSQL's snapshot is unchanged (count-cache.ts). */
  readonly countCache: boolean
}

export class TenantQueries {
  readonly #events: EventBus
  readonly #preparedStatements: boolean
  readonly #counts: SnapshotCountCache | undefined

  constructor(options: TenantQueriesOptions) {
    this.#events = options.events
    this.#preparedStatements = options.preparedStatements
    this.#counts = options.countCache ? new SnapshotCountCache() : undefined
  }

  /** PostgreSQL's current snapshot (xmin:xmax:xip), the validator of cached answers and counts. */
  async readSnapshot(pool: pg.Pool, signal?: AbortSignal): Promise<string> {
    const rows = await this.#run(pool, SNAPSHOT_STATEMENT.name, SNAPSHOT_STATEMENT.sql, [], signal)
    return rows[0]![0]!
  }

  async readPages(pool: pg.Pool, database: TenantDatabase, list: ListRequest, signal?: AbortSignal): Promise<{ pages: TypePage[]; totalCount: number }> {
    // The legacy runs the pages, then the counts, one statement after another (docs/legacy-contract.md §4). The pages
    // run side by side here: each is a statement of its own there too (no common snapshot), so that
    // answers the same and costs the slowest page instead of the sum. The counts come after them, as
    // there, so a count never reflects a state older than the items (test/routes/v2-rezept-list/count-order.test.ts).
    const pages = await Promise.all(list.types.map((type) => {
      const statements = STATEMENTS.get(type)!
      return this.#run(pool, statements.pageName, statements.pageSql, [list.offset, list.pageSize], signal)
    }))
    const totalCount = await this.readCounts(pool, database, list.types, signal)
    return { pages: list.types.map((type, i) => ({ type, rows: pages[i]! })), totalCount }
  }

  /**
   * The pages only, no counts: PATCH /v2/rezept/statusuuid's window (docs/legacy-contract.md §6, §12.2),
   * each type's page statement without the XML (windowSql) with the given OFFSET and LIMIT, side by side as in readPages.
   */
  async readWindow(pool: pg.Pool, types: readonly PrescriptionType[], offset: number, limit: number, signal?: AbortSignal): Promise<TypePage[]> {
    const pages = await Promise.all(types.map((type) => {
      const statements = STATEMENTS.get(type)!
      return this.#run(pool, statements.windowName, statements.windowSql, [offset, limit], signal)
    }))
    return types.map((type, i) => ({ type, rows: pages[i]! }))
  }

  // The eMuster16 count of a 1M-row tenant costs ~30 ms of database CPU; the page queries ~1 ms. A count
  // is reused while PostgreSQL's snapshot is unchanged (count-cache.ts says why that is exact); the
  // snapshot is read after the pages, so a reused count is as new as the items at least.
  // v1 GET new counts the same NEW filter (docs/legacy-contract.md §8) and reads its counts here too.
  async readCounts(pool: pg.Pool, database: TenantDatabase, types: readonly PrescriptionType[], signal: AbortSignal | undefined): Promise<number> {
    const countCache = this.#counts
    const keys = types.map((type) => SnapshotCountCache.key(database.identity, type))
    // No count kept for these types (the first request, the count cache off): nothing to check a snapshot for.
    const snapshot = countCache !== undefined && keys.some((key) => countCache.holds(key)) ? await this.readSnapshot(pool, signal) : undefined
    const counts = await Promise.all(types.map(async (type, i) => {
      const key = keys[i]!
      const cached = snapshot === undefined ? undefined : countCache!.get(key, snapshot)
      if (cached !== undefined) return cached
      const statements = STATEMENTS.get(type)!
      const row = (await this.#run(pool, statements.countName, statements.countSql, [], signal))[0]!
      const count = Number(row[0])
      countCache?.set(key, row[1]!, count)
      return count
    }))
    let total = 0
    for (const count of counts) total += count
    return total
  }

  async #run(pool: pg.Pool, name: string, text: string, values: unknown[], signal: AbortSignal | undefined): Promise<Rows> {
    // Before the pool is asked for a connection: a caller that went away costs no connection and no statement.
    if (signal?.aborted) throw new RequestAborted()
    const events = this.#events
    const started = events.listening ? performance.now() : 0
    let ok = false
    try {
      // pool.query discards a client whose query failed instead of handing it to the next request.
      const result = await pool.query<Array<string | null>>({
        ...(this.#preparedStatements ? { name } : {}),
        text, values, rowMode: 'array', types: RAW_TEXT,
      })
      ok = true
      return result.rows
    } finally {
      if (events.listening) events.emit({ type: 'db.query', name, durationMs: performance.now() - started, ok })
    }
  }
}
