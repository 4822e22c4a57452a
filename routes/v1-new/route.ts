// The fast path of v1 GET /api/v1/Prescriptions/new, stage by stage: read the request → authenticate
// the caller → the page's rows in the plan's order, then the counts → bytes; or defer to the legacy.
// Uncached so far (issue 19): every answer is read from the tenant's database.
import type pg from 'pg'
import { defer, type Deferral, type FastPath, type FastPathOutcome, type FastPathRequest } from '../contract.ts'
import type { CircuitBreaker } from '../../tenants/circuit-breaker.ts'
import type { TenantDatabase } from '../../tenants/npgsql-connection-string.ts'
import type { CallerOutcome } from '../v2-rezept-list/caller.ts'
import { asError, deferReasonForDatabaseFailure } from '../v2-rezept-list/database-failure.ts'
import { RequestAborted } from '../v2-rezept-list/queries.ts'
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
  if (!parts.breaker.allows(database.label)) return defer('circuit-open')
  const pool = parts.poolFor(database)
  const plainPool = parts.plainPoolFor(database)
  const poolWasFull = plainPool.totalCount >= parts.poolMaxSize && plainPool.idleCount === 0
  let body: Buffer
  try {
    const items = await parts.queries.readPage(plainPool, database, v1, signal)
    const totalCount = await parts.queries.readTotal(pool, database, v1.types, signal)
    body = v1Body({ items, totalCount, page: v1.page, pageSize: v1.pageSize })
  } catch (error) {
    if (error instanceof V1RequestAborted || error instanceof RequestAborted) return ABORTED
    if (error instanceof OrderUnproven) return defer('order-unproven', error)
    if (error instanceof UnwritableRow) return defer('db-error', error)
    const reason = deferReasonForDatabaseFailure(error, poolWasFull)
    if (reason !== 'pool-busy') parts.breaker.failed(database.label)
    return defer(reason, asError(error))
  }
  parts.breaker.succeeded(database.label)
  return freshV1Answer(body)
}
