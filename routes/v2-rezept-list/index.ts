// The fast paths of GET /v2/rezept, /v2/rezept/status, v1 GET new (routes/v1-new/) and PATCH
// /v2/rezept/statusuuid (routes/v2-status-by-uuid/), wired: the parts each request passes
// through (route.ts reads them in order) and what the proxy and metrics read from them.
import { availableParallelism } from 'node:os'
import type { EventBus } from '../../core/events.ts'
import type { FastPath } from '../contract.ts'
import type { BasicCredentials } from '../../auth/basic-credentials.ts'
import { CredentialVerifier, type VerifyOutcome } from '../../auth/credential-verifier.ts'
import type { ResponseCache } from '../../cache/response-cache.ts'
import { EscapedTextMemo } from '../../json/escaped-text-memo.ts'
import { CircuitBreaker } from '../../tenants/circuit-breaker.ts'
import { TenantPools } from '../../tenants/tenant-pools.ts'
import { ListBodyWriter } from './answer.ts'
import { answerSettingsKey, CachedLoad, createAnswerCache } from './cached-load.ts'
import { Callers } from './caller.ts'
import { TenantQueries } from './queries.ts'
import { listFastPath, type ListRouteParts } from './route.ts'
import type { FastPathSettings } from './settings.ts'
import { TenantLoader } from './tenant-load.ts'
import { statusByUuidFastPath } from '../v2-status-by-uuid/route.ts'
import { invalidateAfterWrite } from './write-invalidation.ts'
import { V1Queries } from '../v1-new/queries.ts'
import { v1NewFastPath } from '../v1-new/route.ts'
import { V1CachedLoad } from '../v1-new/cached-load.ts'
import { sharedOutcomesFrom } from '../../auth/shared-outcomes.ts'

export { fastPathSettings, fastPathSettingsFrom, type FastPathSettings, type FastPathSettingsInput } from './settings.ts'
export { CONTENT_TYPE } from './answer.ts'

// How long the v1 statement's plan check (EXPLAIN per tenant and type) is trusted: plans move with ANALYZE.
const V1_PLAN_CHECK_MS = 60_000

// Distinct passwords of one login waiting for BCrypt at once: a client retrying is one (single flight
// per credential); more is guessing, which the legacy may check instead.
const BCRYPT_QUEUED_PER_LOGIN = 2

export interface RezeptFastPaths {
  readonly paths: FastPath[]
  /** The answer cache, when any route has it on (tests and metrics read its counts). */
  readonly cache: ResponseCache | undefined
  /**
   * A request that can change prescription rows (routes/prescription-writes.ts) was answered by the
   * legacy, or failed on its way there (the legacy may still have committed): when the legacy
   * carried it out (2xx) or may have, forget what the caller's tenant had cached, here and on every
   * instance. The legacy's answer waits for this (bounded by
   * the Redis command timeout), so a client that wrote and then reads sees its write. Never rejects.
   */
  writeAnswered(authorization: string | undefined, status: number | undefined): Promise<void>
  /** The fast path's credential check (its cache, BCrypt threads and ArzSw pool), for the admin endpoints. */
  verifyCredentials(credentials: BasicCredentials): Promise<VerifyOutcome>
  /** Open tenant pools (the v1 rows' plain pools too), labelled host:port/database, for the metrics. */
  poolStats(): Array<{ tenant: string; total: number; idle: number; waiting: number }>
  /** The escaped-XML memo's hits and misses so far and the bytes it holds (metrics, tests). */
  xmlMemoStats(): { hits: number; misses: number; bytes: number }
  /** The cache's Redis errors and loads so far (metrics); undefined when no route has the cache on. */
  cacheStats(): { redisErrors: number; loads: number } | undefined
  /** Whether the cache's Redis is connected and listening; undefined when the cache uses no Redis. */
  redisUp(): boolean | undefined
  close(): Promise<void>
}

export async function createRezeptFastPaths(settings: FastPathSettings, deps: { events: EventBus }): Promise<RezeptFastPaths> {
  const { events } = deps
  const verifier = new CredentialVerifier({
    arzswUrl: settings.arzswUrl,
    outcomeTtlMs: settings.authCacheTtlMs,
    userRowTtlMs: settings.userRowRefreshMs,
    credentialWatchMs: settings.credentialWatchMs,
    connectTimeoutMs: settings.pool.connectTimeoutMs,
    statementTimeoutMs: settings.pool.statementTimeoutMs,
    preparedStatements: settings.preparedStatements,
    bcryptWorkers: settings.bcryptWorkers === 'cores' ? availableParallelism() : settings.bcryptWorkers,
    bcryptQueue: { maxQueued: settings.bcryptMaxQueued, maxQueuedPerLane: BCRYPT_QUEUED_PER_LOGIN, queueTimeoutMs: settings.bcryptQueueTimeoutMs },
    // A verified outcome another instance (or this one before a restart) holds in Redis costs no BCrypt.
    shared: sharedOutcomesFrom(settings),
    events,
  })
  const callers = new Callers(verifier)
  const pools = new TenantPools(settings.pool)
  // v1 GET new leaves its order to the plan: its rows are read on connections with the server's own
  // planner settings, as the legacy's are, not the fast path's session options (docs/legacy-contract.md §12.9).
  const plainPools = new TenantPools({ ...settings.pool, sessionOptions: false })
  const breaker = new CircuitBreaker({ ...settings.circuitBreaker, events })
  const queries = new TenantQueries({ events, preparedStatements: settings.preparedStatements, countCache: settings.countCache })
  const xmlMemo = new EscapedTextMemo(settings.xmlMemoBytes)
  const writer = new ListBodyWriter(settings.avsSystem, settings.environment, xmlMemo)
  const loader = new TenantLoader({
    breaker,
    pools,
    queries,
    writer,
    poolMaxSize: settings.pool.maxSize,
  })
  const answerCache = createAnswerCache(settings, events)
  const cache = answerCache?.cache
  const parts: ListRouteParts = {
    maxPageSize: settings.maxPageSize,
    fastPathMaxPageSize: settings.fastPathMaxPageSize,
    callers,
    loader,
    cached: answerCache === undefined ? undefined : new CachedLoad({
      ...answerCache, loader, events, modes: settings.cache.routes, answerSettings: answerSettingsKey(settings),
    }),
    writer,
  }

  // The BCrypt threads' start-up (~200 ms) belongs to the proxy's, not to its first request.
  await verifier.started()
  return {
    paths: [
      listFastPath('v2.rezept.list', parts),
      listFastPath('v2.rezept.pharmacy', parts),
      v1NewFastPath({
        fastPathMaxPageSize: settings.fastPathMaxPageSize,
        callers,
        breaker,
        poolFor: (database) => pools.poolFor(database),
        plainPoolFor: (database) => plainPools.poolFor(database),
        poolMaxSize: settings.pool.maxSize,
        queries: new V1Queries({ events, planCheckMs: V1_PLAN_CHECK_MS, counts: (pool, database, types, signal) => queries.readCounts(pool, database, types, signal) }),
        readSnapshot: (pool) => queries.readSnapshot(pool),
        cached: answerCache === undefined || (settings.cache.routes['v1.prescriptions.new'] ?? 'off') === 'off'
          ? undefined
          : new V1CachedLoad({ ...answerCache, events, mode: settings.cache.routes['v1.prescriptions.new']! }),
      }),
      statusByUuidFastPath({ callers, loader }),
    ],
    cache,
    writeAnswered: (authorization, status) => (cache === undefined ? Promise.resolve() : invalidateAfterWrite(cache, callers, authorization, status)),
    verifyCredentials: (credentials) => verifier.verify(credentials),
    // The v1 rows' plain pools count as connections to the same databases (one series per database).
    poolStats: () => [...pools.stats(), ...plainPools.stats()],
    xmlMemoStats: () => ({ hits: xmlMemo.hits, misses: xmlMemo.misses, bytes: xmlMemo.heldBytes }),
    cacheStats: () => (cache === undefined ? undefined : { redisErrors: cache.counts.redisError, loads: cache.counts.loads }),
    redisUp: () => (cache === undefined || settings.redisUrl === undefined ? undefined : cache.l2Available),
    async close(): Promise<void> {
      await answerCache?.feeds?.close()
      await Promise.all([verifier.close(), pools.close(), plainPools.close(), cache?.close()])
    },
  }
}
