// The abuse limits through a real proxy: rate buckets per unverified login/address and per verified
// user (local and shared through Redis), the failed-login throttle, the per-tenant fast-path cap
// (shed to the legacy), and the slow-client bound. An upstream that knows one good password stands in
// for the legacy's authentication (docs/legacy-contract.md §2: 401 with an empty body otherwise).
import t from 'tap'
import { mkdtempSync, readFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ProxyEvent } from '../../core/events.ts'
import { basic, rawExchange } from '../proxy/support/raw-exchange.ts'
import { proxyFor } from '../proxy/support/proxy-under-test.ts'
import { stubFastPath } from '../proxy/support/stub-fast-paths.ts'
import { needsRedis, redisTestPrefix, redisUrl } from '../../dev/services.ts'
import { sendRaw } from './raw-socket.ts'

const GOOD = basic('arz-klein', 'klein-Geheim2')
const WRONG = basic('arz-klein', 'falsch-Passwort-9')
const upstream = http.createServer((req, res) => {
  if (req.headers.authorization !== GOOD) {
    res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="ArzTi3 API", charset="UTF-8"', 'Content-Length': 0 })
    return void res.end()
  }
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 2 })
  res.end('ok')
})
await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
t.teardown(() => new Promise<void>((resolve) => upstream.close(() => resolve())))
const legacyUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`
const auditFile = join(mkdtempSync(join(tmpdir(), 't_hard_')), 'audit.log')

const TIGHT = {
  legacyUrl,
  'limits.enabled': true,
  'limits.unverified.loginPerSecond': 0.01,
  'limits.unverified.loginBurst': 3,
  'limits.unverified.addressPerSecond': 0.01,
  'limits.unverified.addressBurst': 50,
  'limits.default.userPerSecond': 0.01,
  'limits.default.userBurst': 6,
  'limits.authFailures.maxFailures': 3,
  'audit.destination': auditFile,
}

const get = (url: string, authorization?: string, target = '/api/Apotheken') =>
  rawExchange(url, { method: 'GET', target, headers: authorization ? ['Authorization', authorization] : [] })

await t.test('unverified: a presented login gets loginBurst requests, then 429 with Retry-After in the legacy\'s plain-text style', async (t) => {
  const proxy = await proxyFor(t, { ...TIGHT, 'limits.authFailures.maxFailures': 100 })
  const stranger = basic('nobody', 'x')
  const statuses: number[] = []
  for (let i = 0; i < 3; i++) statuses.push((await get(proxy.url, stranger)).status)
  t.same(statuses, [401, 401, 401], 'the legacy answered the first three')
  const limited = await get(proxy.url, stranger)
  t.equal(limited.status, 429)
  t.ok(Number(limited.headers.find(([n]) => n === 'Retry-After')?.[1]) >= 1, 'Retry-After in seconds')
  t.equal(limited.body.toString(), 'Too Many Requests: retry after the time given in Retry-After')
  const other = await get(proxy.url, basic('someone-else', 'x'))
  t.equal(other.status, 401, 'another login is not limited by that one')
})

await t.test('verified: known-good credentials get their own user bucket, and failures with the same login do not lock them out', async (t) => {
  const proxy = await proxyFor(t, TIGHT)
  t.equal((await get(proxy.url, GOOD)).status, 200, 'first request: accepted by the legacy')
  const failures: number[] = []
  for (let i = 0; i < 5; i++) failures.push((await get(proxy.url, WRONG)).status)
  // The first (then unverified) good request took one of the login's three unverified tokens.
  t.same(failures, [401, 401, 429, 429, 429], 'wrong passwords: the presented login\'s unverified bucket runs dry')
  const statuses: number[] = []
  for (let i = 0; i < 7; i++) statuses.push((await get(proxy.url, GOOD)).status)
  t.same(statuses, [200, 200, 200, 200, 200, 200, 429], 'the good credentials keep working until their own user bucket (burst 6) is empty')
})

await t.test('a premium login gets its class\'s larger user bucket; the default class keeps the smaller one', async (t) => {
  const premium = { ...TIGHT, 'limits.premium.userPerSecond': 0.01, 'limits.premium.userBurst': 9 }
  const statuses = async (proxy: { url: string }): Promise<number[]> => {
    const seen: number[] = []
    for (let i = 0; i < 11; i++) seen.push((await get(proxy.url, GOOD)).status)
    return seen
  }
  // The first request is unverified (one of the login's three tokens); then the user bucket counts.
  const asPremium = await statuses(await proxyFor(t, { ...premium, 'limits.premiumTenants': 'other-login, arz-klein' }))
  t.same(asPremium, [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 429], 'premium: burst 9 after the first')
  const asDefault = await statuses(await proxyFor(t, { ...premium, 'limits.premiumTenants': 'other-login' }))
  t.same(asDefault, [200, 200, 200, 200, 200, 200, 200, 429, 429, 429, 429], 'default: burst 6 after the first')
})

await t.test('repeated failed logins from one address are throttled and audited as a burst, without the password', async (t) => {
  const proxy = await proxyFor(t, { ...TIGHT, 'limits.unverified.loginBurst': 100 })
  const statuses: number[] = []
  for (let i = 0; i < 5; i++) statuses.push((await get(proxy.url, basic(`guess-${i}`, `secret-${i}`))).status)
  t.same(statuses, [401, 401, 401, 429, 429], 'three failures from the address, then 429 AUTH_THROTTLED')
  const audit = readFileSync(auditFile, 'utf8')
  t.match(audit, /"event":"security.auth-burst"/)
  t.match(audit, /"event":"security.auth-throttled"/)
  t.notMatch(audit, /secret-|falsch-Passwort|klein-Geheim2|Basic /, 'no password or Authorization value in the audit log')
})

await t.test('lockout only for the attacker: wrong passwords from one address do not lock the login out from another', async (t) => {
  // Behind a load balancer that appends the client address (limits.clientAddressHeader).
  const proxy = await proxyFor(t, { ...TIGHT, 'limits.clientAddressHeader': 'x-forwarded-for', 'limits.unverified.loginBurst': 100 })
  const from = (address: string, authorization: string) =>
    rawExchange(proxy.url, { method: 'GET', target: '/api/Apotheken', headers: ['Authorization', authorization, 'X-Forwarded-For', address] })
  const attack: number[] = []
  for (let i = 0; i < 6; i++) attack.push((await from('198.51.100.66', basic('arz-klein', `falsch-${i}`))).status)
  t.same(attack, [401, 401, 401, 429, 429, 429], 'the attacking address is throttled after three failures')
  t.equal((await from('198.51.100.66', basic('someone-else', 'x'))).status, 429, 'for every login it presents')
  t.equal((await from('192.0.2.10', GOOD)).status, 200, 'the real user\'s first login from its own address is not locked out')
  t.equal((await from('192.0.2.10', GOOD)).status, 200, 'and it keeps working')
  t.equal((await from('198.51.100.66', GOOD)).status, 200, 'known-good credentials work even from the blocked address')
  const typo: number[] = []
  for (let i = 0; i < 2; i++) typo.push((await from('203.0.113.8', WRONG)).status)
  t.same(typo, [401, 401], 'a mistyped password elsewhere gets the legacy\'s answer, not 429')
})

await t.test('a tenant over its fast-path cap is shed to the legacy, not failed', async (t) => {
  const events: ProxyEvent[] = []
  const hanging = stubFastPath('v2.rezept.list', 'hang')
  const proxy = await proxyFor(t, { ...TIGHT, 'limits.default.userBurst': 100, 'limits.fastConcurrencyPerTenant': 1, flags: 'v2.rezept.list=on' }, { fastPaths: [hanging] })
  proxy.events.on((event) => void (event.type === 'fast.deferred' || event.type === 'security' ? events.push(event) : undefined))
  t.equal((await get(proxy.url, GOOD)).status, 200, 'verified through the legacy first')
  const first = get(proxy.url, GOOD, '/v2/rezept').catch(() => undefined) // holds the one slot
  await new Promise((resolve) => setTimeout(resolve, 100))
  const second = await get(proxy.url, GOOD, '/v2/rezept')
  t.equal(second.status, 200)
  t.match(second.headers.find(([n]) => n === 'Server-Timing')?.[1] ?? '', /^legacy/, 'answered by the legacy')
  t.ok(events.some((e) => e.type === 'fast.deferred' && e.reason === 'shed'), 'deferred with reason shed')
  t.ok(events.some((e) => e.type === 'security' && e.kind === 'shed'), 'audited')
  void first
})

await t.test('a client that sends its headers too slowly is cut off with 408 (slowloris)', async (t) => {
  const proxy = await proxyFor(t, { ...TIGHT, 'limits.headersTimeoutMs': 400 })
  const reply = await sendRaw(proxy.url, 'GET /api/Apotheken HTTP/1.1\r\nHost: proxy\r\nX-Slow: ' + 'a'.repeat(200), 5000, { delayMs: 20 })
  t.equal(reply.status, 408, reply.text)
  t.ok(reply.closed && reply.ms < 2500, `closed after ${Math.round(reply.ms)} ms`)
})

const skip = needsRedis()
await t.test('with Redis the buckets are shared: two instances give one login its burst once', { skip: skip.skip ?? false }, async (t) => {
  const prefix = redisTestPrefix(t, 't_hard')
  const shared = { ...TIGHT, 'limits.unverified.loginBurst': 4, 'limits.authFailures.maxFailures': 100, redisUrl: redisUrl(), redisKeyPrefix: prefix, 'limits.redisTimeoutMs': 500 }
  const a = await proxyFor(t, shared)
  const b = await proxyFor(t, shared)
  await new Promise((resolve) => setTimeout(resolve, 300)) // both connected
  const stranger = basic('shared-nobody', 'x')
  const statuses: number[] = []
  for (let i = 0; i < 6; i++) statuses.push((await get(i % 2 === 0 ? a.url : b.url, stranger)).status)
  t.same(statuses, [401, 401, 401, 401, 429, 429], 'four through both together, then 429 on either')
})
