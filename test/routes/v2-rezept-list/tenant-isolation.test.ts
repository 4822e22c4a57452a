// No request of one user can read another tenant's rows: not through the auth cache, not through a shared pool, not after a move.
import t from 'tap'
import { parseTenantDatabase } from '../../../tenants/npgsql-connection-string.ts'
import { TenantPools } from '../../../tenants/tenant-pools.ts'
import { addUser, execute } from './arzsw-users.ts'
import { basicAuthorization } from './cases.ts'
import { blankVolatile, startComparison, type ComparisonFixture } from './comparison-fixture.ts'
import { npgsqlConnectionString, pgAdminUrl } from '../../../dev/services.ts'

const GROSS = basicAuthorization('arz-gross', 'gross-Geheim1')
const KLEIN = basicAuthorization('arz-klein', 'klein-Geheim2')
let fixture: ComparisonFixture

t.before(async () => {
  fixture = await startComparison({
    prefix: 't_fast_iso_', rows: 400, kleinRows: 300, maxPageSize: 500, environment: 'Test',
    // One connection per tenant pool: every request reuses the connection another request just had.
    fastPath: { pool: { maxSize: 1 }, userRowRefreshMs: 200, authCacheTtlMs: 5_000 },
  })
})
t.teardown(async () => {
  await fixture?.close()
})

async function fastText(authorization: string, rawUrl = '/v2/rezept?pageSize=500'): Promise<string> {
  const outcome = await fixture.toFast('v2.rezept.list', 'GET', rawUrl, { authorization })
  if (outcome.kind !== 'answer') throw new Error(`deferred: ${outcome.reason} ${outcome.error?.message ?? ''}`)
  return blankVolatile(outcome.body).text
}

async function simText(authorization: string, rawUrl = '/v2/rezept?pageSize=500'): Promise<string> {
  return blankVolatile((await fixture.toSim('GET', rawUrl, { authorization })).body).text
}

t.test('interleaved requests of two tenants each get only their own rows', async (t) => {
  const [gross, klein] = [await simText(GROSS), await simText(KLEIN)]
  t.not(gross, klein, 'the tenants differ')
  const answers = await Promise.all(Array.from({ length: 24 }, (_, i) => fastText(i % 2 === 0 ? GROSS : KLEIN)))
  for (let i = 0; i < answers.length; i++) t.equal(answers[i], i % 2 === 0 ? gross : klein, `request ${i} saw its own tenant`)
})

t.test('a user moved to another tenant reads the new tenant within the refresh bound, not the cached one', async (t) => {
  await addUser(fixture.arzswUrl, 'arz-umzug', 'umzug-Geheim',
    npgsqlConnectionString(fixture.report.databases.tenants.klein))
  const mover = basicAuthorization('arz-umzug', 'umzug-Geheim')
  t.equal(await fastText(mover), await simText(KLEIN), 'first the klein rows')
  await execute(fixture.arzswUrl, `UPDATE arzsw_datenbank SET datenbank_connection_string = replace(datenbank_connection_string, 'klein', 'leer') WHERE datenbank_name = 'db-of-arz-umzug'`)
  await new Promise((resolve) => setTimeout(resolve, 250))
  t.equal(await fastText(mover), await simText(basicAuthorization('arz-leer', 'leer-Geheim3')), 'then the leer rows')
})

t.test('a changed password stops the cached verification within the refresh bound', async (t) => {
  await addUser(fixture.arzswUrl, 'arz-wechsel', 'alt-Geheim',
    npgsqlConnectionString(fixture.report.databases.tenants.klein))
  const old = basicAuthorization('arz-wechsel', 'alt-Geheim')
  t.equal((await fixture.toFast('v2.rezept.list', 'GET', '/v2/rezept', { authorization: old })).kind, 'answer')
  await execute(fixture.arzswUrl, `UPDATE arzsw_benutzer SET login_passwort = 'neu-Geheim' WHERE login_name = 'arz-wechsel'`)
  await new Promise((resolve) => setTimeout(resolve, 250))
  const outcome = await fixture.toFast('v2.rezept.list', 'GET', '/v2/rezept', { authorization: old })
  t.equal(outcome.kind === 'defer' ? outcome.reason : outcome.kind, 'auth-wrong-password', 'the old password is refused')
  const fresh = await fixture.toFast('v2.rezept.list', 'GET', '/v2/rezept', { authorization: basicAuthorization('arz-wechsel', 'neu-Geheim') })
  t.equal(fresh.kind, 'answer', 'the new password works')
})

t.test('a cached verification of one user does not let a different user in with the same password', async (t) => {
  const outcome = await fixture.toFast('v2.rezept.list', 'GET', '/v2/rezept', { authorization: basicAuthorization('arz-gross', 'klein-Geheim2') })
  t.equal(outcome.kind === 'defer' ? outcome.reason : outcome.kind, 'auth-wrong-password')
})

t.test('connection strings that differ only in key spelling share one pool; different databases never do', async (t) => {
  const pools = new TenantPools({ maxSize: 1, maxPools: 10, idleTimeoutMs: 60_000, connectTimeoutMs: 1000, statementTimeoutMs: 1000, sessionOptions: true })
  t.teardown(() => pools.close())
  const klein = fixture.report.databases.tenants.klein
  const a = parseTenantDatabase(`Host=127.0.0.1;Port=5432;Database=${klein};Username=postgres`)
  const b = parseTenantDatabase(`server = 127.0.0.1 ; PORT=5432;db='${klein}';User Id=postgres;Pooling=true`)
  const c = parseTenantDatabase(`Host=127.0.0.1;Port=5432;Database=${klein.toUpperCase()};Username=postgres`)
  const d = parseTenantDatabase(`Host=127.0.0.1;Port=5432;Database=${klein};Username=postgres;Password=x`)
  t.equal(pools.poolFor(a), pools.poolFor(b), 'same database, other spelling: one pool')
  t.not(pools.poolFor(a), pools.poolFor(c), 'database names are case-sensitive in PostgreSQL: two pools')
  t.not(pools.poolFor(a), pools.poolFor(d), 'another password is another role setup: two pools')
  t.equal(pools.size, 3)
})

t.test('beyond the pool bound the least recently used pool is closed', async (t) => {
  const pools = new TenantPools({ maxSize: 1, maxPools: 2, idleTimeoutMs: 60_000, connectTimeoutMs: 1000, statementTimeoutMs: 1000, sessionOptions: false })
  t.teardown(() => pools.close())
  const first = pools.poolFor(parseTenantDatabase('Host=127.0.0.1;Database=a;Username=postgres'))
  pools.poolFor(parseTenantDatabase('Host=127.0.0.1;Database=b;Username=postgres'))
  pools.poolFor(parseTenantDatabase('Host=127.0.0.1;Database=c;Username=postgres'))
  t.equal(pools.size, 2)
  t.ok(first.ending, 'the oldest pool is ending')
})
