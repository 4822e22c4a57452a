// The fast paths of GET /v2/rezept and GET /v2/rezept/status: parse → authenticate → tenant pool → queries → bytes, or defer.
import { createHash } from 'node:crypto'
import { availableParallelism } from 'node:os'
import type pg from 'pg'
import type { EventBus } from '../../core/events.ts'
import { defer, type DeferReason, type FastAnswer, type FastPath, type FastPathOutcome, type FastPathRequest, type RouteId } from '../contract.ts'
import { parseBasicCredentials, type BasicCredentials } from '../../auth/basic-credentials.ts'
import { CircuitBreaker } from '../../tenants/circuit-breaker.ts'
import { CredentialVerifier, type VerifyOutcome } from '../../auth/credential-verifier.ts'
import { EscapedTextMemo } from '../../json/escaped-text-memo.ts'
import { parseTenantDatabase, type TenantDatabase } from '../../tenants/npgsql-connection-string.ts'
import { ResponseCache } from '../../cache/response-cache.ts'
import { ChangeFeeds } from '../../cache/cdc/change-feed.ts'
import { TenantPools } from '../../tenants/tenant-pools.ts'
import { newPrescriptionStatements, SNAPSHOT_STATEMENT, type NewPrescriptionStatements } from '../../sql/queries/new-prescriptions.ts'
import { PRESCRIPTION_TYPES, type PrescriptionType } from '../../sql/queries/prescription-types.ts'
import { SnapshotCountCache } from './count-cache.ts'
import { asError, deferReasonForDatabaseFailure } from './database-failure.ts'
import { ListBodyWriter, type TypePage } from './list-body.ts'
import { parseListRequest, type ListRequest } from './list-request.ts'
import type { FastPathSettings } from './settings.ts'

export { fastPathSettings, fastPathSettingsFrom, type FastPathSettings, type FastPathSettingsInput } from './settings.ts'

export const CONTENT_TYPE = 'application/json; charset=utf-8'

// Every column arrives as PostgreSQL's text: int8 keeps all its digits, dates keep their ISO form.
const RAW_TEXT = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig

// Distinct passwords of one login waiting for BCrypt at once: a client retrying is one (single flight
// per credential); more is guessing, which the legacy may check instead.
const BCRYPT_QUEUED_PER_LOGIN = 2

const STATEMENTS: ReadonlyMap<PrescriptionType, NewPrescriptionStatements> = new Map(PRESCRIPTION_TYPES.map((t) => [t, newPrescriptionStatements(t)]))

type TenantParse = { ok: true; database: TenantDatabase } | { ok: false; error: Error }

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
  /** Open tenant pools, labelled host:port/database, for the metrics. */
  poolStats(): Array<{ tenant: string; total: number; idle: number; waiting: number }>
  /** The escaped-XML memo's hits and misses so far and the bytes it holds (metrics, tests). */
  xmlMemoStats(): { hits: number; misses: number; bytes: number }
  /** Whether the cache's Redis is connected and listening; undefined when the cache uses no Redis. */
  redisUp(): boolean | undefined
  close(): Promise<void>
}

/** A load for the cache that ended in a deferral: the reason reaches every caller coalesced onto it. */
class LoadDeferred extends Error {
  readonly reason: DeferReason
  readonly failure: Error | undefined
  constructor(reason: DeferReason, failure?: Error) {
    super(reason)
    this.reason = reason
    this.failure = failure
  }
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
    events,
  })
  const pools = new TenantPools(settings.pool)
  const breaker = new CircuitBreaker({ ...settings.circuitBreaker, events })
  const xmlMemo = new EscapedTextMemo(settings.xmlMemoBytes)
  const writer = new ListBodyWriter(settings.avsSystem, settings.environment, xmlMemo)
  // Parsed connection strings by their text; a handful of tenants, bounded anyway.
  const tenants = new Map<string, TenantParse>()
  const countCache = new SnapshotCountCache()
  // The settings an answer's bytes depend on besides the database: instances that differ in them (a
  // misconfiguration, or a rolling change of Environment) must never serve each other's entries.
  // Generations stay shared, so a write still voids every instance's entries.
  const answerSettings = createHash('sha256').update(JSON.stringify([settings.environment, settings.avsSystem, settings.maxPageSize])).digest('base64url').slice(0, 12)
  const cacheOn = Object.values(settings.cache.routes).some((mode) => mode !== 'off')
  const cache = cacheOn
    ? new ResponseCache({
      l1MaxBytes: settings.cache.l1MaxBytes,
      maxEntryBytes: settings.cache.maxEntryBytes,
      maxStaleMs: settings.cache.maxStaleMs,
      changeFeedMaxStaleMs: settings.cache.changeFeedMaxStaleMs,
      redisCommandTimeoutMs: settings.cache.redisCommandTimeoutMs,
      keyPrefix: `${settings.redisKeyPrefix}cache:`,
      keySecret: settings.redisKeySecret,
      bodyKey: settings.redisBodyKey,
      ...(settings.redisUrl === undefined ? {} : { redis: settings.redisUrl }),
      onInvalidated: (cause) => {
        if (events.listening) events.emit({ type: 'cache.invalidated', cause })
      },
      onStoreSkipped: (reason, routeKey) => {
        // Route keys begin with the route id (loadCached).
        if (events.listening) events.emit({ type: 'cache.store-skipped', routeId: routeKey.slice(0, routeKey.indexOf('|')) as RouteId, reason })
      },
    })
    : undefined
  // cdc mode: each tenant's change stream voids its entries within a fraction of a second, and a
  // gap voids them all; meanwhile entries may live up to changeFeedMaxStaleMs (change-feed.ts).
  const feeds = cache !== undefined && Object.values(settings.cache.routes).includes('cdc')
    ? new ChangeFeeds({ publication: settings.cache.publication, connectTimeoutMs: settings.pool.connectTimeoutMs }, {
      following: (tenantId, since) => cache.followingChanges(tenantId, since),
      changed: (tenantId) => cache.changed(tenantId),
      lost: (tenantId) => cache.lostChanges(tenantId),
    })
    : undefined

  function tenantFor(connectionString: string): TenantParse {
    let parsed = tenants.get(connectionString)
    if (parsed === undefined) {
      try {
        parsed = { ok: true, database: parseTenantDatabase(connectionString) }
      } catch (error) {
        parsed = { ok: false, error: asError(error) }
      }
      if (tenants.size >= 1000) tenants.clear()
      tenants.set(connectionString, parsed)
    }
    return parsed
  }


  async function runQuery(pool: pg.Pool, name: string, text: string, values: unknown[]): Promise<Array<Array<string | null>>> {
    const started = events.listening ? performance.now() : 0
    let ok = false
    try {
      // pool.query discards a client whose query failed instead of handing it to the next request.
      const result = await pool.query<Array<string | null>>({
        ...(settings.preparedStatements ? { name } : {}),
        text, values, rowMode: 'array', types: RAW_TEXT,
      })
      ok = true
      return result.rows
    } finally {
      if (events.listening) events.emit({ type: 'db.query', name, durationMs: performance.now() - started, ok })
    }
  }

  async function readSnapshot(pool: pg.Pool): Promise<string> {
    const rows = await runQuery(pool, SNAPSHOT_STATEMENT.name, SNAPSHOT_STATEMENT.sql, [])
    return rows[0]![0]!
  }

  async function readPages(pool: pg.Pool, database: TenantDatabase, list: ListRequest): Promise<{ pages: TypePage[]; totalCount: number }> {
    // The legacy runs the pages, then the counts, one statement after another (docs/legacy-contract.md §4). The pages
    // run side by side here: each is a statement of its own there too (no common snapshot), so that
    // answers the same and costs the slowest page instead of the sum. The counts come after them, as
    // there, so a count never reflects a state older than the items (test/routes/v2-rezept-list/count-order.test.ts).
    const pages = await Promise.all(list.types.map((type) => {
      const statements = STATEMENTS.get(type)!
      return runQuery(pool, statements.pageName, statements.pageSql, [list.offset, list.pageSize])
    }))
    const totalCount = await readCounts(pool, database, list.types)
    return { pages: list.types.map((type, i) => ({ type, rows: pages[i]! })), totalCount }
  }

  // The eMuster16 count of a 1M-row tenant costs ~30 ms of database CPU; the page queries ~1 ms. A count
  // is reused while PostgreSQL's snapshot is unchanged (count-cache.ts says why that is exact); the
  // snapshot is read after the pages, so a reused count is as new as the items at least.
  async function readCounts(pool: pg.Pool, database: TenantDatabase, types: readonly PrescriptionType[]): Promise<number> {
    const keys = types.map((type) => SnapshotCountCache.key(database.identity, type))
    // No count kept for these types (the first request, the count cache off): nothing to check a snapshot for.
    const snapshot = settings.countCache && keys.some((key) => countCache.holds(key)) ? await readSnapshot(pool) : undefined
    const counts = await Promise.all(types.map(async (type, i) => {
      const key = keys[i]!
      const cached = snapshot === undefined ? undefined : countCache.get(key, snapshot)
      if (cached !== undefined) return cached
      const statements = STATEMENTS.get(type)!
      const row = (await runQuery(pool, statements.countName, statements.countSql, []))[0]!
      const count = Number(row[0])
      if (settings.countCache) countCache.set(key, row[1]!, count)
      return count
    }))
    let total = 0
    for (const count of counts) total += count
    return total
  }

  function answer(body: Buffer, servedBy: FastAnswer['servedBy'] = 'fast'): FastAnswer {
    return { kind: 'answer', status: 200, contentType: CONTENT_TYPE, body, servedBy }
  }

  /** An answer the cache rendered into reused memory, handed back once sent. */
  function cachedAnswer(body: Buffer, servedBy: FastAnswer['servedBy']): FastAnswer {
    return { kind: 'answer', status: 200, contentType: CONTENT_TYPE, body, servedBy, release: () => cache!.recycle(body) }
  }

  /**
   * The answer's bytes from the tenant database, or a LoadDeferred saying why the legacy should answer.
   * `forCache`: the database snapshot is read first and returned as the answer's validator.
   */
  async function load(database: TenantDatabase, list: ListRequest, forCache = false): Promise<{ body: Buffer; validator?: string }> {
    if (!breaker.allows(database.label)) throw new LoadDeferred('circuit-open')
    const pool = pools.poolFor(database)
    const poolWasFull = pool.totalCount >= settings.pool.maxSize && pool.idleCount === 0
    let result: { pages: TypePage[]; totalCount: number }
    let snapshot: string | undefined
    try {
      // The validator is read before the pages: a commit after it makes the entry look older than
      // it is (reloaded once too often), never newer.
      if (forCache) snapshot = await readSnapshot(pool)
      result = await readPages(pool, database, list)
    } catch (error) {
      const reason = deferReasonForDatabaseFailure(error, poolWasFull)
      if (reason !== 'pool-busy') breaker.failed(database.label)
      throw new LoadDeferred(reason, asError(error))
    }
    breaker.succeeded(database.label)
    try {
      const body = writer.write({ pages: result.pages, totalCount: result.totalCount, page: list.page, pageSize: list.pageSize, source: database.identity })
      return snapshot === undefined ? { body } : { body, validator: snapshot }
    } catch (error) {
      throw new LoadDeferred('db-error', asError(error))
    }
  }

  /**
   * Whether the tenant's database is still in the snapshot a cached answer was read under: equal
   * snapshots see the same committed transactions (count-cache.ts). Any failure is a "no".
   */
  async function unchangedSince(database: TenantDatabase, snapshot: string): Promise<boolean> {
    if (!breaker.allows(database.label)) return false
    return (await readSnapshot(pools.poolFor(database))) === snapshot
  }

  /** Through the cache: a hit after authentication, or one load for every concurrent miss of the key. */
  async function loadCached(routeId: RouteId, database: TenantDatabase, list: ListRequest): Promise<FastAnswer> {
    const trustChangeFeed = settings.cache.routes[routeId] === 'cdc'
    if (trustChangeFeed) feeds!.follow(database.identity, database)
    // Canonical: the parsed request, so `type=EMUSTER16` and `type=eMuster16` share an entry.
    const routeKey = `${routeId}|${answerSettings}|${list.types.map((type) => type.key).join(',')}|${list.page}|${list.pageSize}`
    const found = await cache!.lookup(database.identity, routeKey, trustChangeFeed, (validator) => unchangedSince(database, validator))
    if (events.listening) events.emit({ type: 'cache.lookup', routeId, outcome: found.outcome })
    if (found.body !== undefined) return cachedAnswer(found.body, 'cache')
    const body = await cache!.fill(database.identity, routeKey, () => load(database, list, true), trustChangeFeed)
    return cachedAnswer(body!, 'fast')
  }

  // A deferral is reported once, by the proxy where it acts on it (client server, shadow runner).
  async function handle(routeId: RouteId, request: FastPathRequest): Promise<FastPathOutcome> {
    if (request.method !== 'GET') return defer('method')
    const headers = request.headers
    // docs/legacy-contract.md §2: the legacy answers any X-Tenant-Id with 500; §3: X-API-Version brings its own rules.
    if (headers['x-tenant-id'] !== undefined) return defer('tenant-header')
    if (headers['x-api-version'] !== undefined) return defer('version-header')
    const parsed = parseListRequest(request.rawUrl, routeId === 'v2.rezept.pharmacy', settings.maxPageSize, settings.fastPathMaxPageSize)
    if (!parsed.ok) return defer(parsed.reason)
    const list = parsed.request

    const credentials = parseBasicCredentials(headers.authorization)
    if (credentials === null) return defer('auth-unparsable')
    const verified = await verifier.verify(credentials)
    if (verified.kind === 'unknown-user') return defer('auth-unknown-user')
    if (verified.kind === 'wrong-password') return defer('auth-wrong-password')
    if (verified.kind === 'unavailable') return defer('auth-unavailable', verified.error)
    if (verified.kind === 'busy') return defer('auth-busy', verified.error)
    const tenant = tenantFor(verified.connectionString)
    if (!tenant.ok) return defer('tenant-unusable', tenant.error)

    // An unknown `type` runs no query at all in the legacy (docs/legacy-contract.md §4): nothing to ask the database.
    if (list.types.length === 0) {
      return answer(writer.write({ pages: [], totalCount: 0, page: list.page, pageSize: list.pageSize, source: '' }))
    }
    const database = tenant.database
    try {
      if (cache !== undefined && settings.cache.routes[routeId] !== 'off') return await loadCached(routeId, database, list)
      return answer((await load(database, list)).body)
    } catch (error) {
      if (error instanceof LoadDeferred) return defer(error.reason, error.failure)
      throw error
    }
  }

  async function writeAnswered(authorization: string | undefined, status: number | undefined): Promise<void> {
    if (cache === undefined) return
    // Only a write the legacy carried out (2xx), or one whose answer was lost on its way (it may have
    // committed). A 4xx or 5xx wrote nothing (docs/legacy-contract.md §7, §8: a failed save rolls back).
    if (status !== undefined && (status < 200 || status > 299)) return
    try {
      const credentials = parseBasicCredentials(authorization)
      const verified = credentials === null ? undefined : await verifier.verify(credentials)
      const tenant = verified?.kind === 'verified' ? tenantFor(verified.connectionString) : undefined
      if (tenant?.ok) return await cache.invalidateTenant(tenant.database.identity)
    } catch {
      // Whatever went wrong, the tenant is unknown.
    }
    // The legacy accepted a caller we cannot place (our check failed or lags the legacy's): every
    // tenant's entries go. Without an answer and without a verified caller nothing goes, or anyone
    // could void every tenant by cutting an unauthenticated write off (issue 16 point 4).
    if (status !== undefined) await cache.invalidateEverything()
  }

  function fastPath(routeId: RouteId): FastPath {
    return {
      routeId,
      async handle(request: FastPathRequest): Promise<FastPathOutcome> {
        try {
          return await handle(routeId, request)
        } catch (error) {
          // The contract: never throw. Anything unforeseen is the legacy's to answer.
          return defer('db-error', asError(error))
        }
      },
    }
  }

  // The BCrypt threads' start-up (~200 ms) belongs to the proxy's, not to its first request.
  await verifier.started()
  return {
    paths: [fastPath('v2.rezept.list'), fastPath('v2.rezept.pharmacy')],
    cache,
    writeAnswered,
    verifyCredentials: (credentials) => verifier.verify(credentials),
    poolStats: () => pools.stats(),
    xmlMemoStats: () => ({ hits: xmlMemo.hits, misses: xmlMemo.misses, bytes: xmlMemo.heldBytes }),
    redisUp: () => (cache === undefined || settings.redisUrl === undefined ? undefined : cache.l2Available),
    async close(): Promise<void> {
      await feeds?.close()
      await Promise.all([verifier.close(), pools.close(), cache?.close()])
    },
  }
}
