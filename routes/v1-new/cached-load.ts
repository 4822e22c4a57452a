// v1 GET new through the response cache the v2 routes use (same tenant generations, same invalidation
// after writes, change feeds in cdc mode): a hit once the caller is authenticated, or one load for
// every concurrent miss of a key. The key holds everything that shapes the answer: the tenant (the
// cache's tenant id), the selected types (rezeptType normalised), page and pageSize.
import type { EventBus } from '../../core/events.ts'
import type { ChangeFeeds } from '../../cache/cdc/change-feed.ts'
import type { ResponseCache } from '../../cache/response-cache.ts'
import type { TenantDatabase } from '../../tenants/npgsql-connection-string.ts'
import type { CacheMode } from '../../config/fast-path.ts'
import type { FastAnswer } from '../contract.ts'
import { CONTENT_TYPE } from './answer.ts'
import type { V1NewRequest } from './request.ts'

export interface V1CachedLoadParts {
  readonly cache: ResponseCache
  readonly feeds: ChangeFeeds | undefined
  readonly events: EventBus
  readonly mode: CacheMode
}

export interface V1Loads {
  /** The answer's body with the snapshot read before its rows (the entry's validator); throws LoadDeferred. */
  load(database: TenantDatabase, request: V1NewRequest): Promise<{ body: Buffer; validator: string }>
  /** Whether nothing committed since `validator`; any failure is a "no". */
  unchangedSince(database: TenantDatabase, validator: string): Promise<boolean>
}

export class V1CachedLoad {
  readonly #parts: V1CachedLoadParts

  constructor(parts: V1CachedLoadParts) {
    this.#parts = parts
  }

  async answer(database: TenantDatabase, request: V1NewRequest, loads: V1Loads, signal: AbortSignal): Promise<FastAnswer | 'aborted'> {
    const { cache, feeds, events, mode } = this.#parts
    const trustChangeFeed = mode === 'cdc'
    if (trustChangeFeed) feeds!.follow(database.identity, database)
    const routeKey = `v1.prescriptions.new|${request.types.map((type) => type.key).join(',')}|${request.page}|${request.pageSize}`
    const found = await cache.lookup(database.identity, routeKey, trustChangeFeed, (validator) => loads.unchangedSince(database, validator))
    if (events.listening) events.emit({ type: 'cache.lookup', routeId: 'v1.prescriptions.new', outcome: found.outcome })
    if (found.body !== undefined) return answer(found.body, 'cache', cache)
    if (signal.aborted) return 'aborted'
    const body = await cache.fill(database.identity, routeKey, async () => ({ ...(await loads.load(database, request)), timestampFree: true }), trustChangeFeed)
    return answer(body!, 'fast', cache)
  }
}

function answer(body: Buffer, servedBy: FastAnswer['servedBy'], cache: ResponseCache): FastAnswer {
  return { kind: 'answer', status: 200, contentType: CONTENT_TYPE, body, servedBy, release: () => cache.recycle(body) }
}
