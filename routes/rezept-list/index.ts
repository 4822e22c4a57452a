// The fast paths of GET /v2/rezept and GET /v2/rezept/status: parse → authenticate → tenant pool → queries → bytes, or defer.
import type pg from 'pg'
import type { EventBus } from '../../proxy/events.ts'
import { defer, type Deferral, type FastAnswer, type FastPath, type FastPathOutcome, type FastPathRequest, type RouteId } from '../fast-path/contract.ts'
import { parseBasicCredentials } from '../fast-path/basic-credentials.ts'
import { CircuitBreaker } from '../fast-path/circuit-breaker.ts'
import { CredentialVerifier } from '../fast-path/credential-verifier.ts'
import { parseTenantDatabase, type TenantDatabase } from '../fast-path/npgsql-connection-string.ts'
import { TenantPools } from '../fast-path/tenant-pools.ts'
import { newPrescriptionStatements, SNAPSHOT_STATEMENT, type NewPrescriptionStatements } from '../../sql/queries/new-prescriptions.ts'
import { PRESCRIPTION_TYPES, type PrescriptionType } from '../../sql/queries/prescription-types.ts'
import { SnapshotCountCache } from './count-cache.ts'
import { asError, deferReasonForDatabaseFailure } from './database-failure.ts'
import { ListBodyWriter, type TypePage } from './list-body.ts'
import { parseListRequest, type ListRequest } from './list-request.ts'
import type { FastPathSettings } from './settings.ts'

export { FAST_PATH_DEFAULTS, FAST_PATH_SETTING_DESCRIPTIONS, fastPathSettings, type FastPathSettings, type FastPathSettingsInput } from './settings.ts'

export const CONTENT_TYPE = 'application/json; charset=utf-8'

// Every column arrives as PostgreSQL's text: int8 keeps all its digits, dates keep their ISO form.
const RAW_TEXT = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig

const STATEMENTS: ReadonlyMap<PrescriptionType, NewPrescriptionStatements> = new Map(PRESCRIPTION_TYPES.map((t) => [t, newPrescriptionStatements(t)]))

type TenantParse = { ok: true; database: TenantDatabase } | { ok: false; error: Error }

export interface RezeptFastPaths {
  readonly paths: FastPath[]
  close(): Promise<void>
}

export async function createRezeptFastPaths(settings: FastPathSettings, deps: { events: EventBus }): Promise<RezeptFastPaths> {
  const { events } = deps
  const verifier = new CredentialVerifier({
    arzswUrl: settings.arzswUrl,
    outcomeTtlMs: settings.authCacheTtlMs,
    userRowTtlMs: settings.userRowRefreshMs,
    connectTimeoutMs: settings.pool.connectTimeoutMs,
    statementTimeoutMs: settings.pool.statementTimeoutMs,
    preparedStatements: settings.preparedStatements,
    events,
  })
  const pools = new TenantPools(settings.pool)
  const breaker = new CircuitBreaker({ ...settings.circuitBreaker, events })
  const writer = new ListBodyWriter(settings.avsSystem, settings.environment)
  // Parsed connection strings by their text; a handful of tenants, bounded anyway.
  const tenants = new Map<string, TenantParse>()
  const countCache = new SnapshotCountCache()

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

  function deferred(routeId: RouteId, reason: Deferral['reason'], error?: Error): Deferral {
    if (events.listening) events.emit(error ? { type: 'fast.deferred', routeId, reason, error } : { type: 'fast.deferred', routeId, reason })
    return defer(reason, error)
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

  async function readPages(pool: pg.Pool, database: TenantDatabase, list: ListRequest): Promise<{ pages: TypePage[]; totalCount: number }> {
    // The legacy runs the pages, then the counts, one after the other (API.md §4). Each is a statement
    // of its own there too (no common snapshot), so running them side by side on several connections
    // answers the same and costs the slowest query instead of the sum.
    const pageReads = Promise.all(list.types.map((type) => {
      const statements = STATEMENTS.get(type)!
      return runQuery(pool, statements.pageName, statements.pageSql, [list.offset, list.pageSize])
    }))
    const countRead = readCounts(pool, database, list.types)
    const [pages, totalCount] = await Promise.all([pageReads, countRead])
    return { pages: list.types.map((type, i) => ({ type, rows: pages[i]! })), totalCount }
  }

  // The eMuster16 count of a 1M-row tenant costs ~30 ms of database CPU; the page queries ~1 ms. A count
  // is reused while PostgreSQL's snapshot is unchanged (count-cache.ts says why that is exact).
  async function readCounts(pool: pg.Pool, database: TenantDatabase, types: readonly PrescriptionType[]): Promise<number> {
    let snapshot: string | undefined
    if (settings.countCache) {
      const rows = await runQuery(pool, SNAPSHOT_STATEMENT.name, SNAPSHOT_STATEMENT.sql, [])
      snapshot = rows[0]![0]!
    }
    const counts = await Promise.all(types.map(async (type) => {
      const key = SnapshotCountCache.key(database.identity, type)
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

  function answer(body: Buffer): FastAnswer {
    return { kind: 'answer', status: 200, contentType: CONTENT_TYPE, body, servedBy: 'fast' }
  }

  async function handle(routeId: RouteId, request: FastPathRequest): Promise<FastPathOutcome> {
    if (request.method !== 'GET') return deferred(routeId, 'method')
    const headers = request.headers
    // API.md §2: the legacy answers any X-Tenant-Id with 500; §3: X-API-Version brings its own rules.
    if (headers['x-tenant-id'] !== undefined) return deferred(routeId, 'tenant-header')
    if (headers['x-api-version'] !== undefined) return deferred(routeId, 'version-header')
    const parsed = parseListRequest(request.rawUrl, routeId === 'v2.rezept.pharmacy', settings.maxPageSize, settings.fastPathMaxPageSize)
    if (!parsed.ok) return deferred(routeId, parsed.reason)
    const list = parsed.request

    const credentials = parseBasicCredentials(headers.authorization)
    if (credentials === null) return deferred(routeId, 'auth-unparsable')
    const verified = await verifier.verify(credentials)
    if (verified.kind === 'unknown-user') return deferred(routeId, 'auth-unknown-user')
    if (verified.kind === 'wrong-password') return deferred(routeId, 'auth-wrong-password')
    if (verified.kind === 'unavailable') return deferred(routeId, 'auth-unavailable', verified.error)
    const tenant = tenantFor(verified.connectionString)
    if (!tenant.ok) return deferred(routeId, 'tenant-unusable', tenant.error)

    // An unknown `type` runs no query at all in the legacy (API.md §4): nothing to ask the database.
    if (list.types.length === 0) {
      return answer(writer.write({ pages: [], totalCount: 0, page: list.page, pageSize: list.pageSize }))
    }
    const database = tenant.database
    if (!breaker.allows(database.label)) return deferred(routeId, 'circuit-open')
    const pool = pools.poolFor(database)
    const poolWasFull = pool.totalCount >= settings.pool.maxSize && pool.idleCount === 0
    let result: { pages: TypePage[]; totalCount: number }
    try {
      result = await readPages(pool, database, list)
    } catch (error) {
      const reason = deferReasonForDatabaseFailure(error, poolWasFull)
      if (reason !== 'pool-busy') breaker.failed(database.label)
      return deferred(routeId, reason, asError(error))
    }
    breaker.succeeded(database.label)
    try {
      return answer(writer.write({ pages: result.pages, totalCount: result.totalCount, page: list.page, pageSize: list.pageSize }))
    } catch (error) {
      return deferred(routeId, 'db-error', asError(error))
    }
  }

  function fastPath(routeId: RouteId): FastPath {
    return {
      routeId,
      async handle(request: FastPathRequest): Promise<FastPathOutcome> {
        try {
          return await handle(routeId, request)
        } catch (error) {
          // The contract: never throw. Anything unforeseen is the legacy's to answer.
          return deferred(routeId, 'db-error', asError(error))
        }
      },
    }
  }

  return {
    paths: [fastPath('v2.rezept.list'), fastPath('v2.rezept.pharmacy')],
    async close(): Promise<void> {
      await Promise.all([verifier.close(), pools.close()])
    },
  }
}
