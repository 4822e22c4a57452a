// Issue 16 point 5: a changed password, a removed login or a tenant move in ArzSw takes effect on the
// fast path within credentialWatchMs (1 s), as the legacy sees it at once; before, a user row lived
// userRowRefreshMs (10 s) and the old password kept reading data.
import t from 'tap'
import { EventBus } from '../../core/events.ts'
import { CredentialVerifier } from '../../auth/credential-verifier.ts'
import { addUser, execute } from '../routes/v2-rezept-list/arzsw-users.ts'
import { basicAuthorization } from '../routes/v2-rezept-list/cases.ts'
import { blankVolatile, startComparison, type ComparisonFixture } from '../routes/v2-rezept-list/comparison-fixture.ts'
import { npgsqlConnectionString } from '../../dev/services.ts'

let fixture: ComparisonFixture

t.before(async () => {
  // The default settings: userRowRefreshMs 10 s, credentialWatchMs 1 s.
  fixture = await startComparison({ prefix: 't_hard_cred_', rows: 400, kleinRows: 300, maxPageSize: 500, environment: 'Test' })
})
t.teardown(async () => {
  await fixture?.close()
})

const LIST = '/v2/rezept?pageSize=500'
// The bound is 1 s; the margin is for a busy machine (the look and the row read are two small queries).
const BOUND_MS = 1000
const MARGIN_MS = 2000

/** What the fast path does with these credentials: `answer` or the deferral's reason. */
async function fastOutcome(authorization: string): Promise<string> {
  const outcome = await fixture.toFast('v2.rezept.list', 'GET', LIST, { authorization })
  return outcome.kind === 'answer' ? `answer:${blankVolatile(outcome.body).text}` : outcome.reason
}

/**
 * Polls until the fast path stops giving `before`, bounded by the bound plus margin; then polls a
 * while longer to see it never comes back. Returns the milliseconds it took and what it gives now.
 */
async function switchOver(authorization: string, before: string, changedAt: number): Promise<{ ms: number; now: string; relapsed: boolean }> {
  let now = before
  while (now === before && performance.now() - changedAt < BOUND_MS + MARGIN_MS) now = await fastOutcome(authorization)
  const ms = performance.now() - changedAt
  let relapsed = false
  for (let i = 0; i < 10; i++) if ((await fastOutcome(authorization)) === before) relapsed = true
  return { ms, now, relapsed }
}

async function newUser(login: string, password: string, tenant: 'klein' | 'gross'): Promise<string> {
  await addUser(fixture.arzswUrl, login, password, npgsqlConnectionString(fixture.report.databases.tenants[tenant]))
  return basicAuthorization(login, password)
}

t.test('a changed password: within 1 s the old one gets the legacy\'s answer, never fast data again', async (t) => {
  const old = await newUser('cred-wechsel', 'alt-Geheim', 'klein')
  const before = await fastOutcome(old)
  t.match(before, /^answer:/, 'fast data before the change')
  await execute(fixture.arzswUrl, `UPDATE arzsw_benutzer SET login_passwort = 'neu-Geheim' WHERE login_name = 'cred-wechsel'`)
  const changedAt = performance.now()
  t.equal((await fixture.toSim('GET', LIST, { authorization: old })).status, 401, 'the legacy refuses the old password at once')
  const { ms, now, relapsed } = await switchOver(old, before, changedAt)
  t.equal(now, 'auth-wrong-password', 'deferred to the legacy, which answers 401')
  t.ok(ms < BOUND_MS + MARGIN_MS, `seen after ${ms.toFixed(0)} ms (bound ${BOUND_MS} ms, margin ${MARGIN_MS} ms)`)
  t.notOk(relapsed, 'and no fast answer for the old password afterwards')
  t.match(await fastOutcome(basicAuthorization('cred-wechsel', 'neu-Geheim')), /^answer:/, 'the new password is answered fast')
})

t.test('a removed login: within 1 s deferred as unknown', async (t) => {
  const gone = await newUser('cred-weg', 'weg-Geheim', 'klein')
  const before = await fastOutcome(gone)
  t.match(before, /^answer:/)
  await execute(fixture.arzswUrl, `DELETE FROM arzsw_benutzer WHERE login_name = 'cred-weg'`)
  const changedAt = performance.now()
  const { ms, now, relapsed } = await switchOver(gone, before, changedAt)
  t.equal(now, 'auth-unknown-user')
  t.ok(ms < BOUND_MS + MARGIN_MS, `seen after ${ms.toFixed(0)} ms`)
  t.notOk(relapsed)
})

t.test('a tenant move: within 1 s the new tenant\'s rows, never the old ones again', async (t) => {
  const mover = await newUser('cred-umzug', 'umzug-Geheim', 'klein')
  const before = await fastOutcome(mover)
  const gross = await fastOutcome(basicAuthorization('arz-gross', 'gross-Geheim1'))
  t.not(before, gross, 'the tenants differ')
  await execute(fixture.arzswUrl, `UPDATE arzsw_datenbank SET datenbank_connection_string = $1 WHERE datenbank_name = 'db-of-cred-umzug'`, [npgsqlConnectionString(fixture.report.databases.tenants.gross)])
  const changedAt = performance.now()
  const { ms, now, relapsed } = await switchOver(mover, before, changedAt)
  t.equal(now, gross, 'the gross rows')
  t.ok(ms < BOUND_MS + MARGIN_MS, `seen after ${ms.toFixed(0)} ms`)
  t.notOk(relapsed, 'never the klein rows again')
})

t.test('the bound is exact on the verifier\'s clock: at 999 ms the old row may serve, at 1000 ms it is gone', async (t) => {
  let now = 5_000_000
  const check = new CredentialVerifier({
    arzswUrl: fixture.arzswUrl, outcomeTtlMs: 60_000, userRowTtlMs: 10_000, credentialWatchMs: 1000,
    connectTimeoutMs: 5000, statementTimeoutMs: 10_000, preparedStatements: true, events: new EventBus(), now: () => now,
  })
  t.teardown(() => check.close())
  await newUser('cred-uhr', 'alt', 'klein')
  t.equal((await check.verify({ user: 'cred-uhr', password: 'alt' })).kind, 'verified')
  await execute(fixture.arzswUrl, `UPDATE arzsw_benutzer SET login_passwort = 'neu' WHERE login_name = 'cred-uhr'`)
  now += 999
  t.equal((await check.verify({ user: 'cred-uhr', password: 'alt' })).kind, 'verified', 'within the period: the row read before the change')
  now += 1
  t.equal((await check.verify({ user: 'cred-uhr', password: 'alt' })).kind, 'wrong-password', 'a period after the last look: looked again, row read again')
  t.equal((await check.verify({ user: 'cred-uhr', password: 'neu' })).kind, 'verified')
  now += 500
  t.equal((await check.verify({ user: 'cred-uhr', password: 'neu' })).kind, 'verified', 'no change: the row stays')
})
