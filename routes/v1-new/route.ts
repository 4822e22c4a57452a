// The fast path of v1 GET /api/v1/Prescriptions/new, stage by stage: read the request → authenticate
// the caller → the page's rows in the plan's order, then the counts → bytes; or defer to the legacy.
// Cached like the v2 routes when `fastPath.cache.routes` gives the route a mode (off by default).
import type pg from 'pg'
import { defer, type Deferral, type FastPath, type FastPathOutcome, type FastPathRequest } from '../contract.ts'
import type { CircuitBreaker } from '../../tenants/circuit-breaker.ts'
import type { TenantDatabase } from '../../tenants/npgsql-connection-string.ts'
import type { CallerOutcome } from '../v2-rezept-list/caller.ts'
import { asError, deferReasonForDatabaseFailure } from '../v2-rezept-list/database-failure.ts'
import { RequestAborted } from '../v2-rezept-list/queries.ts'
import { LoadDeferred } from '../v2-rezept-list/tenant-load.ts'
import type { V1CachedLoad } from './cached-load.ts'
import type { V1NewRequest } from './request.ts'
import { freshV1Answer, UnwritableRow, v1Body } from './answer.ts'
import { OrderUnproven, V1RequestAborted, type V1Queries } from './queries.ts'
import { readV1NewRequest } from './request.ts'

export interface V1NewRouteParts {
  readonly fastPathMaxPageSize: number
  readonly callers: { tenantOf(authorization: string | undefined): Promise<CallerOutcome> }
  readonly breaker: CircuitBreaker
  /** The fast path's pool of the tenant (its session options): the counts. */
  readonly poolFor: (database: TenantDatabase) => pg.Pool
  /** A pool of the tenant with the server's planner defaults, as the legacy's connections have: the rows. */
  readonly plainPoolFor: (database: TenantDatabase) => pg.Pool
  readonly poolMaxSize: number
  readonly queries: V1Queries
  /** The database's snapshot as text (the cache's validator), read on the fast path's pool. */
  readonly readSnapshot: (pool: pg.Pool) => Promise<string>
  /** Undefined when the route has no cache mode. */
  readonly cached: V1CachedLoad | undefined
}

const ABORTED: Deferral = Object.freeze(defer('aborted'))

export function v1NewFastPath(parts: V1NewRouteParts): FastPath {
  return {
    routeId: 'v1.prescriptions.new',
    async handle(request: FastPathRequest, signal: AbortSignal): Promise<FastPathOutcome> {
      try {
        return await answerV1NewRequest(parts, request, signal)
      } catch (error) {
        return defer('db-error', asError(error))
      }
    },
  }
}

export async function answerV1NewRequest(parts: V1NewRouteParts, request: FastPathRequest, signal: AbortSignal): Promise<FastPathOutcome> {
  const parsed = readV1NewRequest(request, parts.fastPathMaxPageSize)
  if (!parsed.ok) return defer(parsed.reason)
  const v1 = parsed.request

  if (signal.aborted) return ABORTED
  const caller = await parts.callers.tenantOf(request.headers.authorization)
  if (!caller.ok) return defer(caller.reason, caller.error)

  // An unknown rezeptType selects no type: nothing is loaded, nothing counted (docs/legacy-contract.md §8).
  if (v1.types.length === 0) return freshV1Answer(v1Body({ items: [], totalCount: 0, page: v1.page, pageSize: v1.pageSize }))

  if (signal.aborted) return ABORTED
  const { database } = caller
  try {
    if (parts.cached !== undefined) {
      const answer = await parts.cached.answer(database, v1, {
        load: (db, request) => load(parts, db, request, true) as Promise<{ body: Buffer; validator: string }>,
        unchangedSince: (db, validator) => unchangedSince(parts, db, validator),
      }, signal)
      return answer === 'aborted' ? ABORTED : answer
    }
    return freshV1Answer((await load(parts, database, v1, false, signal)).body)
  } catch (error) {
    if (error instanceof LoadDeferred) return error.reason === 'aborted' ? ABORTED : defer(error.reason, error.failure)
    throw error
  }
}

/** One answer's bytes from the tenant's database (with the snapshot read first, for the cache), or a LoadDeferred. */
async function load(parts: V1NewRouteParts, database: TenantDatabase, v1: V1NewRequest, forCache: boolean, signal?: AbortSignal): Promise<{ body: Buffer; validator?: string }> {
  if (!parts.breaker.allows(database.label)) throw new LoadDeferred('circuit-open')
  const pool = parts.poolFor(database)
  const plainPool = parts.plainPoolFor(database)
  const poolWasFull = plainPool.totalCount >= parts.poolMaxSize && plainPool.idleCount === 0
  let body: Buffer
  let validator: string | undefined
  try {
    // Before the rows: a commit after it makes the entry look older than it is, never newer.
    if (forCache) validator = await parts.readSnapshot(pool)
    const items = await parts.queries.readPage(plainPool, database, v1, signal)
    const totalCount = await parts.queries.readTotal(pool, database, v1.types, signal)
    body = v1Body({ items, totalCount, page: v1.page, pageSize: v1.pageSize })
  } catch (error) {
    if (error instanceof V1RequestAborted || error instanceof RequestAborted) throw new LoadDeferred('aborted')
    if (error instanceof OrderUnproven) throw new LoadDeferred('order-unproven', error)
    if (error instanceof UnwritableRow) throw new LoadDeferred('db-error', error)
    const reason = deferReasonForDatabaseFailure(error, poolWasFull)
    if (reason !== 'pool-busy') parts.breaker.failed(database.label)
    throw new LoadDeferred(reason, asError(error))
  }
  parts.breaker.succeeded(database.label)
  return validator === undefined ? { body } : { body, validator }
}

async function unchangedSince(parts: V1NewRouteParts, database: TenantDatabase, validator: string): Promise<boolean> {
  if (!parts.breaker.allows(database.label)) return false
  try {
    return (await parts.readSnapshot(parts.poolFor(database))) === validator
  } catch {
    return false
  }
}
