// The fast path of GET /v2/rezept and GET /v2/rezept/status, stage by stage: read the request →
// authenticate the caller → (cache →) tenant pool and queries → bytes; or defer to the legacy.
// A deferral is reported once, by the proxy where it acts on it (client server, shadow runner).
import { defer, type Deferral, type FastPath, type FastPathOutcome, type FastPathRequest, type RouteId } from '../contract.ts'
import { freshAnswer, type ListBodyWriter } from './answer.ts'
import type { CachedLoad } from './cached-load.ts'
import type { Callers } from './caller.ts'
import { asError } from './database-failure.ts'
import { readListRequest } from './request.ts'
import { LoadDeferred, type TenantLoader } from './tenant-load.ts'

export interface ListRouteParts {
  readonly maxPageSize: number
  readonly fastPathMaxPageSize: number
  readonly callers: Callers
  readonly loader: TenantLoader
  /** Undefined when no route has the cache on. */
  readonly cached: CachedLoad | undefined
  readonly writer: ListBodyWriter
}

// The caller withdrew: whatever the fast path would answer, nobody waits for it. Not a failure: the
// client server drops the outcome, the shadow runner's report leaves it out of the deferral metrics.
const ABORTED: Deferral = Object.freeze(defer('aborted'))

/** The route's FastPath: the contract's "never throws" around answerListRequest. */
export function listFastPath(routeId: RouteId, parts: ListRouteParts): FastPath {
  return {
    routeId,
    async handle(request: FastPathRequest, signal: AbortSignal): Promise<FastPathOutcome> {
      try {
        return await answerListRequest(parts, routeId, request, signal)
      } catch (error) {
        // Anything unforeseen is the legacy's to answer.
        return defer('db-error', asError(error))
      }
    },
  }
}

/** Each stage that waits (authentication, the pool, each statement) first checks that the caller is still there. */
export async function answerListRequest(parts: ListRouteParts, routeId: RouteId, request: FastPathRequest, signal: AbortSignal): Promise<FastPathOutcome> {
  const parsed = readListRequest(routeId, request, parts.maxPageSize, parts.fastPathMaxPageSize)
  if (!parsed.ok) return defer(parsed.reason)
  const list = parsed.request

  if (signal.aborted) return ABORTED
  const caller = await parts.callers.tenantOf(request.headers.authorization)
  if (!caller.ok) return defer(caller.reason, caller.error)

  // An unknown `type` runs no query at all in the legacy (docs/legacy-contract.md §4): nothing to ask the database.
  if (list.types.length === 0) {
    return freshAnswer(parts.writer.write({ pages: [], totalCount: 0, page: list.page, pageSize: list.pageSize, source: '' }))
  }

  if (signal.aborted) return ABORTED
  try {
    if (parts.cached?.covers(routeId)) {
      const answer = await parts.cached.answer(routeId, caller.database, list, signal)
      return answer === 'aborted' ? ABORTED : answer
    }
    return freshAnswer((await parts.loader.load(caller.database, list, { signal })).body)
  } catch (error) {
    if (error instanceof LoadDeferred) return error.reason === 'aborted' ? ABORTED : defer(error.reason, error.failure)
    throw error
  }
}
