// The fast path of PATCH /v2/rezept/statusuuid, stage by stage (docs/legacy-contract.md §6): read the
// buffered body → authenticate the caller (the legacy authenticates before it validates: a 400 is
// only for a verified caller) → the window, §4's page 1 × 1000 of every type without counts, from the
// tenant's pool → bytes; or defer to the legacy.
//
// No cache: the response cache keeps rendered list bodies, and none holds this window — it exists as
// a list answer only for pageSize=1000 ≤ MaxPageSize, and then with counts and XML that this route
// would have to parse back. The three page statements (~1 ms each on a 1M-row tenant) are read fresh.
import { defer, type Deferral, type FastPath, type FastPathOutcome, type FastPathRequest } from '../contract.ts'
import type { Callers } from '../v2-rezept-list/caller.ts'
import { asError } from '../v2-rezept-list/database-failure.ts'
import { LoadDeferred, type TenantLoader } from '../v2-rezept-list/tenant-load.ts'
import { PRESCRIPTION_TYPES } from '../../sql/queries/prescription-types.ts'
import { emptyListAnswer, nullListAnswer, statusAnswer, tooManyAnswer } from './answer.ts'
import { readStatusRequest } from './request.ts'

/** The window the legacy looks in, whatever MaxPageSize is (docs/legacy-contract.md §6, §12.2). */
const WINDOW_OFFSET = 0
const WINDOW_LIMIT = 1000

export interface StatusRouteParts {
  readonly callers: Callers
  readonly loader: TenantLoader
}

const ABORTED: Deferral = Object.freeze(defer('aborted'))

/** The route's FastPath: the contract's "never throws" around answerStatusRequest. */
export function statusByUuidFastPath(parts: StatusRouteParts): FastPath {
  return {
    routeId: 'v2.rezept.statusuuid',
    async handle(request: FastPathRequest, signal: AbortSignal): Promise<FastPathOutcome> {
      try {
        return await answerStatusRequest(parts, request, signal)
      } catch (error) {
        return defer('db-error', asError(error))
      }
    },
  }
}

export async function answerStatusRequest(parts: StatusRouteParts, request: FastPathRequest, signal: AbortSignal): Promise<FastPathOutcome> {
  const parsed = readStatusRequest(request)
  if (!parsed.ok) return defer(parsed.reason)

  if (signal.aborted) return ABORTED
  const caller = await parts.callers.tenantOf(request.headers.authorization)
  if (!caller.ok) return defer(caller.reason, caller.error)

  const asked = parsed.request
  switch (asked.kind) {
    case 'empty': return emptyListAnswer()
    case 'too-many': return tooManyAnswer()
    case 'null-list': return nullListAnswer()
    case 'uuids': break
  }

  if (signal.aborted) return ABORTED
  let window
  try {
    window = await parts.loader.loadWindow(caller.database, PRESCRIPTION_TYPES, WINDOW_OFFSET, WINDOW_LIMIT, signal)
  } catch (error) {
    if (error instanceof LoadDeferred) return error.reason === 'aborted' ? ABORTED : defer(error.reason, error.failure)
    throw error
  }
  return statusAnswer(window, asked.uuids)
}
