// Issue 24: verified outcomes survive restarts and are shared between instances through Redis, keyed
// by an HMAC of the credentials and the user's ArzSw row; renewals and expiries are jittered. Real
// Redis (REDIS_URL) and a real ArzSw; BCrypt runs are counted by the verifier's events ('verified':
// BCrypt ran here; 'cached': an outcome already known, here or in Redis).
import { randomUUID } from 'node:crypto'
import bcrypt from 'bcryptjs'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { EventBus, type ProxyEvent } from '../../core/events.ts'
import { CredentialVerifier, type CredentialVerifierOptions } from '../../auth/credential-verifier.ts'
import { SharedOutcomes, sharedOutcomesFrom } from '../../auth/shared-outcomes.ts'
import { fastPathSettings } from '../../config/fast-path.ts'
import { seed } from '../../sql/seed/seed.ts'
import { databaseUrl, pgAdminUrl, redisUrl } from '../../dev/services.ts'
import { addUser, execute } from '../routes/v2-rezept-list/arzsw-users.ts'

const PREFIX = `t24:${randomUUID().slice(0, 8)}:`
const SECRET = 'issue-24-test-secret-of-at-least-32-characters'
const USERS = Array.from({ length: 4 }, (_, i) => ({ user: `shared-user-${i}`, password: `Geheim-${i}-äö` }))
const PLAIN = { user: 'shared-plain', password: 'klartext' }
let arzswUrl = ''
const redis = new Redis(redisUrl(), { maxRetriesPerRequest: 1 })

t.before(async () => {
  const report = await seed({ adminUrl: pgAdminUrl(), prefix: 't_auth_shared_', rows: 0, kleinRows: 0 })
  arzswUrl = databaseUrl(report.databases.arzsw)
  for (const { user, password } of USERS) {
    await addUser(arzswUrl, user, 'unused-plain', 'Host=127.0.0.1;Database=nowhere;Username=u')
    await execute(arzswUrl, 'UPDATE arzsw_benutzer SET login_passwort_crypt = $1 WHERE login_name = $2', [bcrypt.hashSync(password, 4), user])
  }
  await addUser(arzswUrl, PLAIN.user, PLAIN.password, 'Host=127.0.0.1;Database=nowhere;Username=u')
})

t.teardown(async () => {
  const keys = await redis.keys(`${PREFIX}*`)
  if (keys.length > 0) await redis.del(...keys)
  redis.disconnect()
})

interface Instance {
  readonly check: CredentialVerifier
  readonly seen: string[]
}

/** A verifier as a (re)started instance has it: its own caches, the shared Redis. */
function instance(t: Test, options: Partial<CredentialVerifierOptions> = {}): Instance {
  const events = new EventBus()
  const seen: string[] = []
  events.on((event: ProxyEvent) => { if (event.type === 'auth.checked') seen.push(event.outcome) })
  const check = new CredentialVerifier({
    arzswUrl, outcomeTtlMs: 60_000, userRowTtlMs: 1_000_000, credentialWatchMs: 1000, connectTimeoutMs: 5000, statementTimeoutMs: 10_000,
    preparedStatements: false, events, bcryptWorkers: 1,
    shared: { redisUrl: redisUrl(), keyPrefix: PREFIX, keySecret: SECRET, commandTimeoutMs: 200 },
    ...options,
  })
  t.teardown(() => check.close())
  return { check, seen }
}

/** Waits until the fire-and-forget SET of a verified outcome has landed. */
async function settled(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 50))
}

t.test('instance A verifies; instance B (and A restarted) take the outcome from Redis without BCrypt', async (t) => {
  const credentials = USERS[0]!
  const a = instance(t)
  t.equal((await a.check.verify(credentials)).kind, 'verified')
  t.same(a.seen, ['verified'], 'A ran BCrypt')
  await settled()
  const b = instance(t)
  t.equal((await b.check.verify(credentials)).kind, 'verified', 'B lets the user in')
  t.same(b.seen, ['cached'], 'without running BCrypt')
  t.equal((await b.check.verify(credentials)).kind, 'verified')
  t.same(b.seen, ['cached', 'cached'], 'and keeps it locally')
  t.equal((await b.check.verify({ user: credentials.user, password: 'falsch' })).kind, 'wrong-password', 'another password is checked')
})

t.test('Redis holds no login nor password, only verified outcomes, bounded by the outcome TTL', async (t) => {
  const credentials = USERS[1]!
  const a = instance(t)
  t.equal((await a.check.verify({ user: credentials.user, password: 'falsch-1' })).kind, 'wrong-password')
  t.equal((await a.check.verify(credentials)).kind, 'verified')
  await settled()
  const keys = await redis.keys(`${PREFIX}*`)
  for (const key of keys) {
    t.notMatch(key, /shared-user|Geheim|falsch/, `${key}: nothing in clear`)
    t.equal(await redis.get(key), '1', 'the value says nothing either')
    const ttl = await redis.pttl(key)
    t.ok(ttl > 0 && ttl <= 60_000, `expires within the outcome TTL (${ttl} ms)`)
  }
  const hasher = new SharedOutcomes({ redisUrl: redisUrl(), keyPrefix: PREFIX, keySecret: SECRET, commandTimeoutMs: 200 })
  t.teardown(() => hasher.close())
  const [crypt] = await rowSecrets(credentials.user)
  const fields = (password: string) => [credentials.user, password, crypt, 'unused-plain', 'Host=127.0.0.1;Database=nowhere;Username=u']
  t.equal(await redis.exists(hasher.key(fields(credentials.password))), 1, 'the verified outcome is there')
  t.equal(await redis.exists(hasher.key(fields('falsch-1'))), 0, 'the wrong password was never stored')
  const b = instance(t)
  t.equal((await b.check.verify({ user: credentials.user, password: 'falsch-1' })).kind, 'wrong-password', 'and B refuses it after its own BCrypt')
})

t.test('a changed password is not served from Redis: old entries are unreachable', async (t) => {
  const credentials = USERS[2]!
  const a = instance(t)
  t.equal((await a.check.verify(credentials)).kind, 'verified')
  await settled()
  await execute(arzswUrl, 'UPDATE arzsw_benutzer SET login_passwort_crypt = $1 WHERE login_name = $2', [bcrypt.hashSync('Neu-2', 4), credentials.user])
  const b = instance(t)
  t.equal((await b.check.verify(credentials)).kind, 'wrong-password', 'B: the old password is refused')
  t.same(b.seen, ['rejected'], 'after a BCrypt against the new hash, not from Redis')
  t.equal((await b.check.verify({ user: credentials.user, password: 'Neu-2' })).kind, 'verified')
  t.same(b.seen, ['rejected', 'verified'], 'the new password is checked by BCrypt')
})

t.test('plain-text users never touch Redis', async (t) => {
  const a = instance(t)
  const before = (await redis.keys(`${PREFIX}*`)).length
  t.equal((await a.check.verify(PLAIN)).kind, 'verified')
  await settled()
  t.equal((await redis.keys(`${PREFIX}*`)).length, before)
})

t.test('Redis unreachable: verification works as without it, with no wait beyond the command timeout', async (t) => {
  const credentials = USERS[3]!
  const down = instance(t, { shared: { redisUrl: 'redis://127.0.0.1:1', keyPrefix: PREFIX, keySecret: SECRET, commandTimeoutMs: 50 } })
  await down.check.verify({ user: credentials.user, password: 'warm-up' }) // the ArzSw row is read first
  const began = performance.now()
  t.equal((await down.check.verify(credentials)).kind, 'verified')
  const took = performance.now() - began
  t.ok(took < 1000, `verified in ${took.toFixed(0)} ms`)
  t.ok(down.seen.includes('verified'), 'by BCrypt here')
})

t.test('jitter: two users verified at the same moment are renewed at different times', async (t) => {
  let now = 10_000_000
  // Each check draws its life's jitter, then its renewal's: user 0 none (60 s, renewed from 30 s),
  // user 1 almost the most (48 s, renewed from 12 s).
  const draws = [0, 0, 0.999, 0.999]
  const events = new EventBus()
  const seen: Array<[string, string]> = []
  let who = ''
  events.on((event: ProxyEvent) => { if (event.type === 'auth.checked') seen.push([who, event.outcome]) })
  const check = new CredentialVerifier({
    arzswUrl, outcomeTtlMs: 60_000, userRowTtlMs: 1_000_000_000, connectTimeoutMs: 5000, statementTimeoutMs: 10_000,
    preparedStatements: false, events, bcryptWorkers: 1, now: () => now, random: () => draws.shift() ?? 0,
  })
  t.teardown(() => check.close())
  const [first, second] = [USERS[0]!, USERS[1]!]
  who = 'first'; await check.verify(first)
  who = 'second'; await check.verify(second)
  t.same(seen.splice(0), [['first', 'verified'], ['second', 'verified']])

  now += 13_000
  who = 'first'; await check.verify(first)
  who = 'second'; await check.verify(second)
  const deadline = Date.now() + 10_000
  while (!seen.some(([, outcome]) => outcome === 'refreshed') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
  t.same(seen.splice(0), [['first', 'cached'], ['second', 'cached'], ['second', 'refreshed']], 'at 13 s only the second is renewed')
  now += 18_000
  who = 'first'; await check.verify(first)
  while (!seen.some(([, outcome]) => outcome === 'refreshed') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
  t.same(seen.splice(0), [['first', 'cached'], ['first', 'refreshed']], 'at 31 s the first is renewed')
})

t.test('jitter: outcomes verified together, left unused, expire spread over the last fifth of the TTL', async (t) => {
  let now = 20_000_000
  const draws = [0, 0, 0.999, 0]
  const events = new EventBus()
  const seen: string[] = []
  events.on((event: ProxyEvent) => { if (event.type === 'auth.checked') seen.push(event.outcome) })
  const check = new CredentialVerifier({
    arzswUrl, outcomeTtlMs: 60_000, userRowTtlMs: 1_000_000_000, connectTimeoutMs: 5000, statementTimeoutMs: 10_000,
    preparedStatements: false, events, bcryptWorkers: 1, now: () => now, random: () => draws.shift() ?? 0,
  })
  t.teardown(() => check.close())
  const [first, second] = [USERS[0]!, USERS[1]!]
  await check.verify(first)
  await check.verify(second)
  seen.splice(0)
  now += 50_000
  await check.verify(second)
  t.same(seen.splice(0), ['verified'], 'at 50 s the second (48 s) has expired: BCrypt again')
  await check.verify(first)
  t.same(seen.splice(0, 1), ['cached'], 'the first (60 s) is still trusted (and renewed in the background)')
})

t.test('the options come from the fast-path settings: on with redisUrl, off without it or when turned off', async (t) => {
  const base = { arzswUrl: 'postgres://x@127.0.0.1/arzsw', redisKeySecret: SECRET, redisKeyPrefix: 'fp:' }
  t.same(sharedOutcomesFrom(fastPathSettings({ ...base, redisUrl: 'redis://127.0.0.1:6379' })),
    { redisUrl: 'redis://127.0.0.1:6379', keyPrefix: 'fp:', keySecret: SECRET, commandTimeoutMs: 50 })
  t.equal(sharedOutcomesFrom(fastPathSettings(base)), undefined, 'no Redis')
  t.equal(sharedOutcomesFrom(fastPathSettings({ ...base, redisUrl: 'redis://127.0.0.1:6379', authSharedOutcomes: false })), undefined, 'turned off')
})

async function rowSecrets(login: string): Promise<[string]> {
  const pg = (await import('pg')).default
  const client = new pg.Client({ connectionString: arzswUrl })
  await client.connect()
  try {
    const result = await client.query<{ crypt: string }>('SELECT login_passwort_crypt AS crypt FROM arzsw_benutzer WHERE login_name = $1', [login])
    return [result.rows[0]!.crypt]
  } finally {
    await client.end()
  }
}
