// BCrypt runs on worker threads, never holding up the event loop, and an active user's verified outcome
// is renewed in the background before it expires, so their requests never wait for BCrypt again.
import { performance } from 'node:perf_hooks'
import bcrypt from 'bcryptjs'
import t from 'tap'
import { EventBus, type ProxyEvent } from '../../core/events.ts'
import { BcryptPool } from '../../auth/bcrypt-pool.ts'
import { CredentialVerifier } from '../../auth/credential-verifier.ts'
import { seed } from '../../sql/seed/seed.ts'
import { databaseUrl, pgAdminUrl } from '../../dev/services.ts'
import { addUser, execute } from '../routes/v2-rezept-list/arzsw-users.ts'

const USERS = Array.from({ length: 8 }, (_, i) => ({ user: `bcw-user-${i}`, password: `Geheim-${i}-äö` }))
let arzswUrl = ''

t.before(async () => {
  const report = await seed({ adminUrl: pgAdminUrl(), prefix: 't_fast_bcw_', rows: 0, kleinRows: 0 })
  arzswUrl = databaseUrl(report.databases.arzsw)
  for (const { user, password } of USERS) {
    await addUser(arzswUrl, user, 'unused-plain', 'Host=127.0.0.1;Database=nowhere;Username=u')
    await execute(arzswUrl, 'UPDATE arzsw_benutzer SET login_passwort_crypt = $1 WHERE login_name = $2', [bcrypt.hashSync(password, 10), user])
  }
})

function verifier(options: { bcryptWorkers: number; now?: () => number; events?: EventBus; random?: () => number }): CredentialVerifier {
  const made = new CredentialVerifier({
    arzswUrl, outcomeTtlMs: 60_000, userRowTtlMs: 1_000_000, connectTimeoutMs: 2000, statementTimeoutMs: 5000,
    preparedStatements: false, events: options.events ?? new EventBus(), bcryptWorkers: options.bcryptWorkers,
    ...(options.now ? { now: options.now } : {}),
    ...(options.random ? { random: options.random } : {}),
  })
  t.teardown(() => made.close())
  return made
}

async function renewal(seen: readonly string[]): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!seen.includes('refreshed') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
}

/** The event loop's busy share while every user is verified at once, and the outcomes. */
async function verifyAll(check: CredentialVerifier): Promise<{ busy: number; kinds: string[] }> {
  // The ArzSw rows first, so only BCrypt is measured.
  await Promise.all(USERS.map(({ user }) => check.verify({ user, password: 'wrong-first' })))
  const before = performance.eventLoopUtilization()
  const outcomes = await Promise.all(USERS.map((credentials) => check.verify(credentials)))
  const busy = performance.eventLoopUtilization(before).utilization
  return { busy, kinds: outcomes.map((o) => o.kind) }
}

t.test('with a worker, eight BCrypt checks leave the event loop free; on the loop they fill it', async (t) => {
  const off = await verifyAll(verifier({ bcryptWorkers: 1 }))
  t.same(new Set(off.kinds), new Set(['verified']), 'every user verified through the worker')
  const on = await verifyAll(verifier({ bcryptWorkers: 0 }))
  t.same(new Set(on.kinds), new Set(['verified']), 'and on the event loop')
  t.ok(off.busy < 0.5, `event loop busy ${(off.busy * 100).toFixed(0)} % with the worker`)
  t.ok(on.busy > 0.7, `event loop busy ${(on.busy * 100).toFixed(0)} % with BCrypt on it`)
})

t.test('a used outcome past half its life is renewed in the background, and never waited for', async (t) => {
  let now = 1_000_000
  const events = new EventBus()
  const seen: string[] = []
  events.on((event: ProxyEvent) => { if (event.type === 'auth.checked') seen.push(event.outcome) })
  // No jitter: renewed from half the life, expired at its end (the jitter has its own test).
  const check = verifier({ bcryptWorkers: 1, now: () => now, events, random: () => 0 })
  const credentials = USERS[0]!
  t.equal((await check.verify(credentials)).kind, 'verified')
  t.same(seen.splice(0), ['verified'], 'the first request runs BCrypt')

  now += 20_000
  await check.verify(credentials)
  t.same(seen.splice(0), ['cached'], 'before half its life: no renewal')

  now += 15_000 // 35 s: past half of 60 s
  await check.verify(credentials)
  t.same(seen.splice(0, 1), ['cached'], 'served at once from the outcome')
  await renewal(seen)
  t.same(seen.splice(0), ['refreshed'], 'and renewed in the background')

  now += 40_000 // 75 s: the first outcome has expired, the renewed one (from 35 s) has not
  t.equal((await check.verify(credentials)).kind, 'verified')
  t.same(seen.splice(0, 1), ['cached'], 'no request waits for BCrypt')
  await renewal(seen) // past half the renewed outcome's life too: renewed again
  seen.splice(0)

  now += 100_000 // unused for longer than the bound: checked again while the request waits
  await check.verify(credentials)
  t.same(seen.splice(0, 1), ['verified'])

  t.equal((await check.verify({ user: credentials.user, password: 'falsch' })).kind, 'wrong-password', 'a wrong password is still refused')
})

t.test('BCrypt threads that cannot answer make the check unavailable, not a wrong password', async (t) => {
  // Not through verifier(): this test closes it itself.
  const check = new CredentialVerifier({
    arzswUrl, outcomeTtlMs: 60_000, userRowTtlMs: 1_000_000, connectTimeoutMs: 2000, statementTimeoutMs: 5000,
    preparedStatements: false, events: new EventBus(), bcryptWorkers: 1,
  })
  const credentials = USERS[1]!
  // The user's row is read and kept (a wrong password is still a real BCrypt check).
  t.equal((await check.verify({ user: credentials.user, password: 'falsch' })).kind, 'wrong-password')
  await check.close()
  t.equal((await check.verify(credentials)).kind, 'unavailable', 'the closed pool says nothing of the password')
})

t.test('the pool answers in order, reads what bcryptjs reads, and refuses work once closed', async (t) => {
  const pool = new BcryptPool(2)
  await t.resolves(pool.started, 'both threads report bcryptjs loaded')
  const hash = bcrypt.hashSync('richtig', 4)
  t.same(await Promise.all([pool.compare('richtig', hash), pool.compare('falsch', hash), pool.compare('richtig', '$2b$04$kaputt'), pool.compare('richtig', hash)]),
    [true, false, false, true])
  const slow = bcrypt.hashSync('x', 12)
  const running = [pool.compare('x', slow), pool.compare('x', slow), pool.compare('x', slow)]
    .map((comparison) => comparison.then(() => 'answered', (error: Error) => error.message))
  t.equal(pool.queued, 1, 'two run, one waits')
  await pool.close()
  t.same(await Promise.all(running), ['BcryptPool closed', 'BcryptPool closed', 'BcryptPool closed'], 'running and waiting comparisons are refused')
  await t.rejects(pool.compare('richtig', hash), /closed/)
  t.throws(() => new BcryptPool(0), RangeError)
})
