// When a tenant's database fails, requests defer with the right reason, the circuit opens, and the fast path resumes when it is back.
import pg from 'pg'
import t from 'tap'
import { addUser, execute } from './arzsw-users.ts'
import { basicAuthorization } from './cases.ts'
import { startComparison, type ComparisonFixture } from './comparison-fixture.ts'
import { databaseUrl, npgsqlConnectionString, pgAdminUrl } from '../../../dev/services.ts'
import type { FastPathOutcome } from '../../../routes/contract.ts'
import { freePort } from '../../../proxy/listen.ts'

const MOBILE_DB = 't_fast_fb_apoti_mobil'
let fixture: ComparisonFixture

function reasonOf(outcome: FastPathOutcome): string {
  return outcome.kind === 'defer' ? outcome.reason : outcome.kind
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const OPEN_MS = 1500

// openMs leaves room for a busy machine: "circuit-open" is asserted after an ALTER DATABASE on the
// shared server, and 300 ms (the former value) is within what a busy neighbour can delay that by.
t.before(async () => {
  fixture = await startComparison({
    prefix: 't_fast_fb_', rows: 300, kleinRows: 300, maxPageSize: 500, environment: 'Test',
    fastPath: { circuitBreaker: { failureThreshold: 2, openMs: OPEN_MS }, pool: { maxSize: 1, connectTimeoutMs: 200, statementTimeoutMs: 600, idleTimeoutMs: 1000 } },
  })
  await execute(pgAdminUrl(), `DROP DATABASE IF EXISTS ${MOBILE_DB} WITH (FORCE)`)
  await execute(pgAdminUrl(), `DROP DATABASE IF EXISTS ${MOBILE_DB}_weg WITH (FORCE)`)
  await execute(pgAdminUrl(), `CREATE DATABASE ${MOBILE_DB} TEMPLATE ${fixture.report.databases.tenants.klein}`)
  await addUser(fixture.arzswUrl, 'arz-mobil', 'mobil-Geheim', npgsqlConnectionString(MOBILE_DB))
  await addUser(fixture.arzswUrl, 'arz-tot', 'tot-Geheim', npgsqlConnectionString('x', { port: await freePort() }))
  await addUser(fixture.arzswUrl, 'arz-kaputt', 'kaputt-Geheim', `Host=127.0.0.1;SSL Mode=Require;Database=x;Username=postgres`)
})
t.teardown(async () => {
  await fixture?.close()
  await execute(pgAdminUrl(), `DROP DATABASE IF EXISTS ${MOBILE_DB} WITH (FORCE)`).catch(() => {})
  await execute(pgAdminUrl(), `DROP DATABASE IF EXISTS ${MOBILE_DB}_weg WITH (FORCE)`).catch(() => {})
})

const ask = (login: string, password: string, rawUrl = '/v2/rezept?pageSize=5') =>
  fixture.toFast('v2.rezept.list', 'GET', rawUrl, { authorization: basicAuthorization(login, password) })

t.test('a tenant whose database port is closed defers with db-error, then the circuit opens', async (t) => {
  t.equal(reasonOf(await ask('arz-tot', 'tot-Geheim')), 'db-error')
  t.equal(reasonOf(await ask('arz-tot', 'tot-Geheim')), 'db-error')
  const third = await ask('arz-tot', 'tot-Geheim')
  t.equal(reasonOf(third), 'circuit-open', 'after two failures the database is not tried')
  t.ok(fixture.events.some((e) => e.type === 'circuit.changed' && e.state === 'open' && e.tenant.includes('127.0.0.1:')), 'the opening is an event naming host:port/database')
  t.equal(reasonOf(await ask('arz-klein', 'klein-Geheim2')), 'answer', 'other tenants keep their fast path')
})

t.test('an unknown type needs no database, so a failing tenant still gets its empty answer', async (t) => {
  t.equal(reasonOf(await ask('arz-tot', 'tot-Geheim', '/v2/rezept?type=x')), 'answer')
})

t.test('a connection string the fast path cannot read defers with tenant-unusable', async (t) => {
  const outcome = await ask('arz-kaputt', 'kaputt-Geheim')
  t.equal(reasonOf(outcome), 'tenant-unusable')
  t.notMatch(outcome.kind === 'defer' ? outcome.error?.message ?? '' : '', /Password/i)
})

t.test('a renamed database defers, opens the circuit, and the fast path resumes once it is back', async (t) => {
  t.equal(reasonOf(await ask('arz-mobil', 'mobil-Geheim')), 'answer', 'served while the database is there')
  await execute(pgAdminUrl(), `ALTER DATABASE ${MOBILE_DB} RENAME TO ${MOBILE_DB}_weg`).catch(async () => {
    await execute(pgAdminUrl(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, [MOBILE_DB])
    await execute(pgAdminUrl(), `ALTER DATABASE ${MOBILE_DB} RENAME TO ${MOBILE_DB}_weg`)
  })
  const first = await ask('arz-mobil', 'mobil-Geheim')
  t.equal(reasonOf(first), 'db-error', 'the vanished database is a db-error')
  t.ok(first.kind === 'defer' && first.error instanceof Error, 'with the error attached')
  t.equal(reasonOf(await ask('arz-mobil', 'mobil-Geheim')), 'db-error')
  t.equal(reasonOf(await ask('arz-mobil', 'mobil-Geheim')), 'circuit-open')
  await execute(pgAdminUrl(), `ALTER DATABASE ${MOBILE_DB}_weg RENAME TO ${MOBILE_DB}`)
  t.equal(reasonOf(await ask('arz-mobil', 'mobil-Geheim')), 'circuit-open', 'still open before the pause is over')
  await sleep(OPEN_MS + 100)
  t.equal(reasonOf(await ask('arz-mobil', 'mobil-Geheim')), 'answer', 'the trial request is served')
  t.equal(reasonOf(await ask('arz-mobil', 'mobil-Geheim')), 'answer', 'and the circuit is closed again')
  const states = fixture.events.filter((e) => e.type === 'circuit.changed' && e.tenant.endsWith(MOBILE_DB)).map((e) => e.type === 'circuit.changed' ? e.state : '')
  t.same(states, ['open', 'half-open', 'closed'])
})

t.test('a statement held up by a lock times out and defers with db-timeout; a waiting request with pool-busy', async (t) => {
  const locker = new pg.Client({ connectionString: databaseUrl(MOBILE_DB) })
  await locker.connect()
  t.teardown(() => locker.end())
  await locker.query('BEGIN')
  await locker.query('LOCK TABLE er_senderezepte_emuster16 IN ACCESS EXCLUSIVE MODE')
  // maxSize 1: the first request holds the only connection while its statement waits on the lock.
  const [held, waiting] = await Promise.all([ask('arz-mobil', 'mobil-Geheim'), sleep(20).then(() => ask('arz-mobil', 'mobil-Geheim'))])
  await locker.query('ROLLBACK')
  t.equal(reasonOf(held), 'db-timeout')
  t.equal(reasonOf(waiting), 'pool-busy')
  await sleep(OPEN_MS + 100)
  t.equal(reasonOf(await ask('arz-mobil', 'mobil-Geheim')), 'answer', 'served again once the lock is gone')
})

t.test('ArzSw unreachable defers with auth-unavailable', async (t) => {
  const { createRezeptFastPaths, fastPathSettings } = await import('../../../routes/v2-rezept-list/index.ts')
  const { EventBus } = await import('../../../core/events.ts')
  const fast = await createRezeptFastPaths(fastPathSettings({ arzswUrl: `postgres://postgres@127.0.0.1:${await freePort()}/x` }), { events: new EventBus() })
  t.teardown(() => fast.close())
  const outcome = await fast.paths[0]!.handle({ routeId: 'v2.rezept.list', method: 'GET', rawUrl: '/v2/rezept', headers: { authorization: basicAuthorization('a', 'b') } }, new AbortController().signal)
  t.equal(reasonOf(outcome), 'auth-unavailable')
})

t.test('without session options (PgBouncer) a non-ISO DateStyle makes requests defer, never answer with other dates', async (t) => {
  const { createRezeptFastPaths, fastPathSettings } = await import('../../../routes/v2-rezept-list/index.ts')
  const { EventBus } = await import('../../../core/events.ts')
  await execute(pgAdminUrl(), `ALTER DATABASE ${MOBILE_DB} SET DateStyle = 'SQL, DMY'`)
  t.teardown(() => execute(pgAdminUrl(), `ALTER DATABASE ${MOBILE_DB} RESET DateStyle`))
  const plain = await createRezeptFastPaths(fastPathSettings({ arzswUrl: fixture.arzswUrl, pool: { sessionOptions: false } }), { events: new EventBus() })
  const withOptions = await createRezeptFastPaths(fastPathSettings({ arzswUrl: fixture.arzswUrl }), { events: new EventBus() })
  t.teardown(() => Promise.all([plain.close(), withOptions.close()]))
  const request = { routeId: 'v2.rezept.list' as const, method: 'GET', rawUrl: '/v2/rezept?pageSize=100', headers: { authorization: basicAuthorization('arz-mobil', 'mobil-Geheim') } }
  t.equal(reasonOf(await plain.paths[0]!.handle(request, new AbortController().signal)), 'db-error')
  t.equal(reasonOf(await withOptions.paths[0]!.handle(request, new AbortController().signal)), 'answer', 'with DateStyle=ISO sent at connect it answers')
})
