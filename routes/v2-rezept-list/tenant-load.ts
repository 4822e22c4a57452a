// One answer's bytes from the tenant's database: the circuit breaker, the tenant's pool, the
// statements (queries.ts) and the body writer (answer.ts), or a LoadDeferred saying why the legacy should answer.
import type pg from 'pg'
import type { DeferReason } from '../contract.ts'
import type { PrescriptionType } from '../../sql/queries/prescription-types.ts'
import type { CircuitBreaker } from '../../tenants/circuit-breaker.ts'
import type { TenantDatabase } from '../../tenants/npgsql-connection-string.ts'
import type { TenantPools } from '../../tenants/tenant-pools.ts'
import type { ListBodyWriter, TypePage } from './answer.ts'
import { asError, deferReasonForDatabaseFailure } from './database-failure.ts'
import { RequestAborted, type TenantQueries } from './queries.ts'
import type { ListRequest } from './request.ts'

/** A load that ended in a deferral: the reason reaches every caller coalesced onto it (cached-load.ts). */
export class LoadDeferred extends Error {
  readonly reason: DeferReason
  readonly failure: Error | undefined
  constructor(reason: DeferReason, failure?: Error) {
    super(reason)
    this.reason = reason
    this.failure = failure
  }
}

export interface TenantLoaderParts {
  readonly breaker: CircuitBreaker
  readonly pools: TenantPools
  readonly queries: TenantQueries
  readonly writer: ListBodyWriter
  /** The pools' size: a timeout while every connection was taken is 'pool-busy', not a slow database. */
  readonly poolMaxSize: number
}

export interface LoadOptions {
  /** Read the database snapshot first and return it as the answer's validator (for the cache). */
  readonly forCache?: boolean
  /** The caller's: once aborted, no further statement is sent and the load defers as 'aborted'. */
  readonly signal?: AbortSignal
}

export class TenantLoader {
  readonly #parts: TenantLoaderParts

  constructor(parts: TenantLoaderParts) {
    this.#parts = parts
  }

  /** The answer's bytes from the tenant database, or a LoadDeferred. */
  async load(database: TenantDatabase, list: ListRequest, options: LoadOptions = {}): Promise<{ body: Buffer; validator?: string }> {
    const { queries, writer } = this.#parts
    let snapshot: string | undefined
    const result = await this.#read(database, options.signal, async (pool) => {
      // The validator is read before the pages: a commit after it makes the entry look older than
      // it is (reloaded once too often), never newer.
      if (options.forCache) snapshot = await queries.readSnapshot(pool, options.signal)
      return queries.readPages(pool, database, list, options.signal)
    })
    try {
      const body = writer.write({ pages: result.pages, totalCount: result.totalCount, page: list.page, pageSize: list.pageSize, source: database.identity })
      return snapshot === undefined ? { body } : { body, validator: snapshot }
    } catch (error) {
      throw new LoadDeferred('db-error', asError(error))
    }
  }

  /**
   * Each given type's page rows at OFFSET/LIMIT and no counts (PATCH /v2/rezept/statusuuid's window),
   * under the same breaker and pool as load; or a LoadDeferred.
   */
  async loadWindow(database: TenantDatabase, types: readonly PrescriptionType[], offset: number, limit: number, signal?: AbortSignal): Promise<TypePage[]> {
    return this.#read(database, signal, (pool) => this.#parts.queries.readWindow(pool, types, offset, limit, signal))
  }

  /** The circuit breaker and the tenant's pool around `read`; its failures become LoadDeferred. */
  async #read<T>(database: TenantDatabase, signal: AbortSignal | undefined, read: (pool: pg.Pool) => Promise<T>): Promise<T> {
    const { breaker, pools, poolMaxSize } = this.#parts
    if (signal?.aborted) throw new LoadDeferred('aborted')
    if (!breaker.allows(database.label)) throw new LoadDeferred('circuit-open')
    const pool = pools.poolFor(database)
    const poolWasFull = pool.totalCount >= poolMaxSize && pool.idleCount === 0
    let result: T
    try {
      result = await read(pool)
    } catch (error) {
      // Stopped for the caller, not by the database: no failure for the breaker (nor the metrics).
      if (error instanceof RequestAborted) throw new LoadDeferred('aborted')
      const reason = deferReasonForDatabaseFailure(error, poolWasFull)
      if (reason !== 'pool-busy') breaker.failed(database.label)
      throw new LoadDeferred(reason, asError(error))
    }
    breaker.succeeded(database.label)
    return result
  }

  /**
   * Whether the tenant's database is still in the snapshot a cached answer was read under: equal
   * snapshots see the same committed transactions (count-cache.ts). Any failure is a "no".
   */
  async unchangedSince(database: TenantDatabase, snapshot: string): Promise<boolean> {
    const { breaker, pools, queries } = this.#parts
    if (!breaker.allows(database.label)) return false
    return (await queries.readSnapshot(pools.poolFor(database))) === snapshot
  }
}
