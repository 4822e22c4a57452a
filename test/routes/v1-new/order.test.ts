// How v1 GET new keeps the legacy's order (docs/legacy-contract.md §12.9): the portal stops at the page's
// last row, the rows are read with the server's planner defaults (not the fast path's session options,
// which SET LOCAL … TO DEFAULT would not undo), and a parallel plan is left to the legacy.
import t from 'tap'
import pg from 'pg'
import { databaseUrl } from '../../../dev/services.ts'
import { EventBus } from '../../../core/events.ts'
import { PRESCRIPTION_TYPES } from '../../../sql/queries/prescription-types.ts'
import { v1NewStatements } from '../../../sql/queries/v1-new-prescriptions.ts'
import { FAST_PATH_SESSION_OPTIONS } from '../../../tenants/tenant-pools.ts'
import { readPortalRows } from '../../../tenants/portal-rows.ts'
import { V1Queries } from '../../../routes/v1-new/queries.ts'
import { parseV1NewRequest } from '../../../routes/v1-new/request.ts'
import { parseTenantDatabase } from '../../../tenants/npgsql-connection-string.ts'
import { authorizationFor, CASE_SETTINGS } from '../v2-rezept-list/cases.ts'
import { startComparison, type ComparisonFixture } from '../v2-rezept-list/comparison-fixture.ts'
import { observedStatements, statementFor } from '../../support/observed-legacy-sql.ts'

let fixture: ComparisonFixture
let kleinUrl: string
t.before(async () => {
  fixture = await startComparison({ prefix: 't_v1new_order_', ...CASE_SETTINGS })
  kleinUrl = databaseUrl(fixture.report.databases.tenants.klein)
})
t.teardown(async () => {
  await fixture?.close()
})

t.test('the statement is the legacy\'s, text for text, for every type', async (t) => {
  const observed = observedStatements().find((s) => s.request.startsWith('GET /api/v1/Prescriptions/new') && /AS "Type"/.test(s.sql))!
  t.ok(observed, 'the observed statement is at hand')
  const norm = (sql: string) => sql.replace(/\s+/g, ' ').trim()
  t.equal(norm(v1NewStatements(PRESCRIPTION_TYPES[0]!).rowsSql), norm(observed.sql), 'eMuster16: the observed text')
  // The other types were not observed; their text is the eMuster16 text on their own tables (labels aside).
  // The number column is labelled and placed as the type's own (EF's projection); the rest is the same text.
  const shape = (sql: string) => norm(sql).replace(/(e\.\w+|NULL) AS "(Muster16Id|TransaktionsNummer|ErezeptId)"/g, 'N')
  for (const type of PRESCRIPTION_TYPES.slice(1)) {
    t.equal(shape(v1NewStatements(type).rowsSql), shape(statementFor(observed.sql, type)), `${type.name}: the same shape`)
  }
})

t.test('the portal sends rows up to page*pageSize and no further', async (t) => {
  const pool = new pg.Pool({ connectionString: kleinUrl, max: 1 })
  t.teardown(() => pool.end())
  const client = await pool.connect()
  try {
    const read = await readPortalRows(client, 'SELECT g::text FROM generate_series(1, 100000) g', 5, 10)
    t.same(read.rows.map((r) => r[0]), ['6', '7', '8', '9', '10'], 'rows 6..10 kept, 1..5 dropped')
    t.equal(read.received, 10, 'PostgreSQL sent ten rows of 100000')
    t.equal(read.suspended, true, 'the portal was suspended there')
    const all = await readPortalRows(client, 'SELECT g::text FROM generate_series(1, 3) g', 0, 10)
    t.same([all.received, all.suspended], [3, false], 'a shorter result runs out')
    await t.rejects(readPortalRows(client, 'SELECT 1/0', 0, 1), /division by zero/, 'a server error rejects')
    t.equal((await client.query('SELECT 2 AS x')).rows[0].x, 2, 'and the connection is usable after it')
  } finally {
    client.release()
  }
})

t.test('a page of the first type reads no further type, and only up to the page\'s end', async (t) => {
  const pool = new pg.Pool({ connectionString: kleinUrl, max: 1 })
  t.teardown(() => pool.end())
  const reads: string[] = []
  const events = new EventBus()
  events.on((e) => { if (e.type === 'db.query') reads.push(e.name) })
  const queries = new V1Queries({ events, planCheckMs: 60_000, counts: async () => 0 })
  const database = parseTenantDatabase(`Host=127.0.0.1;Port=5441;Database=${fixture.report.databases.tenants.klein};Username=postgres;Password=postgres`)
  const parsed = parseV1NewRequest('/api/v1/Prescriptions/new?page=2&pageSize=3', 100_000)
  if (!parsed.ok) return t.fail('parses')
  const items = await queries.readPage(pool, database, parsed.request, undefined)
  t.equal(items.length, 1, 'one type read')
  t.equal(items[0]!.rows.length, 3, 'the page\'s three rows kept (three skipped)')
  t.same(reads, ['fastpath_v1_new_em16_plan', 'fastpath_v1_new_em16'], 'one plan check, one read; P-Rezept and E-Rezept never asked')
})

t.test('the rows need the server\'s planner defaults: SET LOCAL … TO DEFAULT would keep the session options', async (t) => {
  const withOptions = new pg.Client({ connectionString: kleinUrl, options: FAST_PATH_SESSION_OPTIONS })
  const plain = new pg.Client({ connectionString: kleinUrl })
  await withOptions.connect()
  await plain.connect()
  try {
    await withOptions.query('BEGIN')
    await withOptions.query('SET LOCAL random_page_cost TO DEFAULT')
    await withOptions.query('SET LOCAL jit TO DEFAULT')
    const local = (await withOptions.query('SELECT current_setting(\'random_page_cost\') AS r, current_setting(\'jit\') AS j')).rows[0]
    await withOptions.query('ROLLBACK')
    t.same(local, { r: '1.1', j: 'off' }, 'DEFAULT is the connection\'s startup value, not the server\'s')
    const server = (await plain.query('SELECT current_setting(\'random_page_cost\') AS r, current_setting(\'jit\') AS j')).rows[0]
    t.not(server.r, '1.1', 'a plain connection has the server\'s random_page_cost')
  } finally {
    await withOptions.end()
    await plain.end()
  }
})

t.test('a parallel plan (Gather) is left to the legacy as order-unproven', async (t) => {
  const database = fixture.report.databases.tenants.gross
  const admin = new pg.Client({ connectionString: databaseUrl(database) })
  await admin.connect()
  const settings = ['parallel_setup_cost = 0', 'parallel_tuple_cost = 0', 'min_parallel_table_scan_size = 0', 'min_parallel_index_scan_size = 0']
  try {
    // New connections of that database (the fast path's plain pool opens its first one now) plan in parallel.
    for (const s of settings) await admin.query(`ALTER DATABASE ${database} SET ${s}`)
    const fresh = new pg.Client({ connectionString: databaseUrl(database) })
    await fresh.connect()
    const plan = JSON.stringify((await fresh.query(v1NewStatements(PRESCRIPTION_TYPES[0]!).explainSql)).rows)
    await fresh.end()
    t.match(plan, /"Gather/, 'the plan has a Gather now')
    const c = { name: 'p', routeId: 'v1.prescriptions.new' as const, method: 'GET', rawUrl: '/api/v1/Prescriptions/new?pageSize=5', headers: {}, user: 'gross' as const, expect: 'same' as const }
    const outcome = await fixture.toFast(c.routeId, c.method, c.rawUrl, authorizationFor(c))
    t.equal(outcome.kind, 'defer', 'the fast path defers')
    if (outcome.kind === 'defer') t.equal(outcome.reason, 'order-unproven')
  } finally {
    for (const s of settings) await admin.query(`ALTER DATABASE ${database} RESET ${s.split(' ')[0]}`)
    await admin.end()
  }
})
