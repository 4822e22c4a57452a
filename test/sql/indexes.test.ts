// The index CLI applies, reports and drops the fastpath_ indexes on every ArzSw tenant, and the fast path gives the legacy's bytes with them in place.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import pg from 'pg'
import t from 'tap'
import { runIndexCommand, registeredTenants } from '../../sql/indexes/index-cli.ts'
import { FAST_PATH_INDEXES } from '../../sql/indexes/fastpath-indexes.ts'
import { addUser } from '../routes/v2-rezept-list/arzsw-users.ts'
import { authorizationFor, FAST_PATH_CASES } from '../routes/v2-rezept-list/cases.ts'
import { blankVolatile, startComparison, type ComparisonFixture } from '../routes/v2-rezept-list/comparison-fixture.ts'
import { urlForDatabase } from '../../sql/seed/database-setup.ts'
import { npgsqlConnectionString, pgAdminUrl } from '../../dev/services.ts'

let fixture: ComparisonFixture
t.before(async () => {
  fixture = await startComparison({ prefix: 't_fast_idx_', rows: 400, kleinRows: 300, maxPageSize: 500, environment: 'Test' })
  // A second row naming the klein database in other spelling: indexed once, not twice.
  const server = new URL(pgAdminUrl())
  const password = decodeURIComponent(server.password)
  await addUser(fixture.arzswUrl, 'arz-zweit', 'x', `server=127.0.0.1;PORT=${server.port || 5432};db=${fixture.report.databases.tenants.klein};uid=postgres` +
    (password ? `;pwd=${password}` : ''))
  await addUser(fixture.arzswUrl, 'arz-unlesbar', 'x', 'Host=a,b;Username=u')
})
t.teardown(async () => {
  await fixture?.close()
})

async function execute(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

const states = (reports: Awaited<ReturnType<typeof runIndexCommand>>) => reports.map((r) => [r.tenant, r.error ?? r.indexes.map((i) => i.state).join(',')])

t.test('status, apply, status, drop over every registered tenant database, each once', async (t) => {
  const tenants = await registeredTenants(fixture.arzswUrl)
  t.equal(tenants.length, 3, 'gross, klein, leer; the second spelling of klein and the unreadable string are skipped')
  const missing = FAST_PATH_INDEXES.map(() => 'missing').join(',')
  const valid = FAST_PATH_INDEXES.map(() => 'valid').join(',')
  t.same(states(await runIndexCommand('status', fixture.arzswUrl)).map((s) => s[1]), [missing, missing, missing])
  t.same(states(await runIndexCommand('apply', fixture.arzswUrl)).map((s) => s[1]), [valid, valid, valid])
  t.same(states(await runIndexCommand('apply', fixture.arzswUrl)).map((s) => s[1]), [valid, valid, valid], 'apply is idempotent')
  t.same(states(await runIndexCommand('status', fixture.arzswUrl)).map((s) => s[1]), [valid, valid, valid])
})

t.test('with the indexes in place the fast path still gives the legacy\'s bytes', async (t) => {
  const sample = FAST_PATH_CASES.filter((c) => c.expect === 'same' && c.user !== 'leer').filter((_, i) => i % 4 === 0)
  for (const c of sample) {
    const headers = authorizationFor(c)
    const legacy = await fixture.toSim(c.method, c.rawUrl, headers)
    const outcome = await fixture.toFast(c.routeId, c.method, c.rawUrl, headers)
    if (outcome.kind !== 'answer') {
      t.fail(`${c.name}: deferred ${outcome.reason}`)
      continue
    }
    t.equal(blankVolatile(outcome.body).text, blankVolatile(legacy.body).text, c.name)
  }
})

t.test('apply drops the fastpath_ indexes of the old shape, which the legacy\'s own statements used', async (t) => {
  const gross = urlForDatabase(pgAdminUrl(), fixture.report.databases.tenants.gross)
  // The definitions `apply` created until 2026-12-03 (issue 26 point 7).
  await execute(gross, 'CREATE INDEX fastpath_em16_daten_new ON er_senderezepte_emuster16_daten (id_senderezepte_emuster16, id_senderezepte_emuster16_daten) WHERE transfer_arz = false')
  await execute(gross, 'CREATE INDEX fastpath_em16_status_first ON er_senderezepte_emuster16_status (id_senderezepte_emuster16, id_senderezepte_emuster16_status) INCLUDE (rezept_status)')
  const stale = (reports: Awaited<ReturnType<typeof runIndexCommand>>) => reports.map((r) => r.stale.join(','))
  t.same(stale(await runIndexCommand('status', fixture.arzswUrl)), ['fastpath_em16_daten_new,fastpath_em16_status_first', '', ''], 'status names them')
  const { stdout } = await promisify(execFile)(process.execPath, ['sql/indexes/index-cli.ts', 'status', '--arzsw', fixture.arzswUrl])
  t.match(stdout, /t_fast_idx_apoti_gross: .* stale, dropped by apply: fastpath_em16_daten_new fastpath_em16_status_first/)
  const valid = FAST_PATH_INDEXES.map(() => 'valid').join(',')
  const applied = await runIndexCommand('apply', fixture.arzswUrl)
  t.same(stale(applied), ['', '', ''], 'apply dropped them')
  t.same(states(applied).map((s) => s[1]), [valid, valid, valid], 'and kept the current ones')
})

t.test('drop removes them again, and the CLI reports as a process', async (t) => {
  const missing = FAST_PATH_INDEXES.map(() => 'missing').join(',')
  t.same(states(await runIndexCommand('drop', fixture.arzswUrl)).map((s) => s[1]), [missing, missing, missing])
  const run = promisify(execFile)
  const { stdout } = await run(process.execPath, ['sql/indexes/index-cli.ts', 'status', '--arzsw', fixture.arzswUrl])
  t.match(stdout, /t_fast_idx_apoti_gross: fastpath_em16_daten_new_v2=missing/)
  await t.rejects(run(process.execPath, ['sql/indexes/index-cli.ts', 'rebuild']), 'an unknown command fails')
})

t.test('a tenant database that cannot be reached is reported, not fatal', async (t) => {
  const { runOnTenant } = await import('../../sql/indexes/index-cli.ts')
  const { parseTenantDatabase } = await import('../../tenants/npgsql-connection-string.ts')
  const report = await runOnTenant('status', parseTenantDatabase(npgsqlConnectionString('t_fast_idx_gibt_es_nicht')))
  t.match(report.error, /does not exist/)
})
