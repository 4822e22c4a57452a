// Issue 16 point 1: 270 anonymous POSTs trickling one byte every 5 s held every connection to the
// legacy, and everything passed to it hung. Now each client address gets a share of the pool, a
// request waits a bounded time for a connection (then 503 UPSTREAM_BUSY), a trickling body is cut
// (408 REQUEST_BODY_TIMEOUT), and a client that leaves frees its connection at once. Small
// configured timeouts keep this test to a few seconds; every wait is bounded by an answer.
import t, { type Test } from 'tap'
import { request } from 'undici'
import { startEchoUpstream, type EchoUpstream } from '../proxy/support/echo-upstream.ts'
import { proxyFor } from '../proxy/support/proxy-under-test.ts'
import { eventually, slowBody } from './support/slow-body.ts'

const ATTACKERS = 300
const POOL = 16
/** The part of the pool anonymous clients may hold (upstream.anonymousSharePercent, 75 %). */
const ANONYMOUS_PART = 12

async function timedGet(baseUrl: string, address: string): Promise<{ status: number; ms: number; body: string }> {
  const started = performance.now()
  const answer = await request(`${baseUrl}/api/Health/arzsw`, { headers: { 'x-forwarded-for': address }, headersTimeout: 10_000, bodyTimeout: 10_000 })
  const body = await answer.body.text()
  return { status: answer.statusCode, ms: performance.now() - started, body }
}

async function upstreamFor(t: Test): Promise<EchoUpstream> {
  const upstream = await startEchoUpstream()
  t.teardown(() => upstream.close())
  return upstream
}

const bounds = {
  'upstream.maxSockets': POOL,
  'upstream.maxPerClient': 4,
  'upstream.queueTimeoutMs': 300,
  'limits.bodyMinBytesPerSecond': 100,
  'limits.bodyRateGraceMs': 1000,
  'limits.bodyTimeoutMs': 3000,
  'limits.clientAddressHeader': 'x-forwarded-for',
}

t.test('300 slow bodies from one address: it gets its share, the others are answered at once and the slow ones get 408', async (t) => {
  const upstream = await upstreamFor(t)
  const proxy = await proxyFor(t, { legacyUrl: upstream.url, ...bounds })
  const attackers = Array.from({ length: ATTACKERS }, () => slowBody(proxy.url, '203.0.113.9', 2000))
  t.teardown(() => attackers.forEach((a) => a.leave()))
  // Once most attackers have been refused, the pool is as taken as it will be.
  await Promise.race([Promise.all(attackers.slice(-100).map((a) => a.answered)), new Promise((r) => setTimeout(r, 5000))])

  const normal = await timedGet(proxy.url, '198.51.100.7')
  t.equal(normal.status, 200, 'another client is answered by the legacy')
  t.ok(normal.ms < 1000, `within 1 s (${normal.ms.toFixed(0)} ms)`)

  const answers = await Promise.all(attackers.map((a) => a.answered))
  const statuses = new Map<number, number>()
  for (const { status } of answers) statuses.set(status, (statuses.get(status) ?? 0) + 1)
  t.same(Object.fromEntries(statuses), { 408: 4, 503: ATTACKERS - 4 }, 'its share (4) cut with 408, the rest refused with 503')
  const slowest = Math.max(...answers.map((a) => a.ms))
  t.ok(slowest < 4000, `every slow body answered within the deadline (${slowest.toFixed(0)} ms)`)
})

t.test('300 slow bodies from 300 addresses fill the anonymous part: a normal request gets 503 or 200 within 1 s, never a hang; all free after', async (t) => {
  const upstream = await upstreamFor(t)
  // A longer grace: the pool stays full while the normal request comes.
  const proxy = await proxyFor(t, { legacyUrl: upstream.url, ...bounds, 'limits.bodyRateGraceMs': 2000 })
  const busy: string[] = []
  proxy.events.on((e) => void (e.type === 'upstream.failed' && e.kind === 'busy' && busy.push(e.requestId ?? '')))
  const attackers = Array.from({ length: ATTACKERS }, (_, i) => slowBody(proxy.url, `10.0.${i >> 8}.${i & 255}`, 2000))
  t.teardown(() => attackers.forEach((a) => a.leave()))
  await eventually(5000, async () => busy.length >= ATTACKERS - 2 * POOL)

  const normal = await timedGet(proxy.url, '198.51.100.7')
  t.ok(normal.status === 503 || normal.status === 200, `503 or 200 (${normal.status})`)
  t.ok(normal.ms < 1000, `within 1 s (${normal.ms.toFixed(0)} ms)`)
  if (normal.status === 503) t.equal(normal.body, 'Service Unavailable: the ArzTi service is busy, retry after the time given in Retry-After')

  const answers = await Promise.all(attackers.map((a) => a.answered))
  const cut = answers.filter((a) => a.status === 408).length
  t.ok(cut >= ANONYMOUS_PART, `those holding a connection are cut with 408 (${cut})`)
  t.equal(answers.filter((a) => a.status === 503).length, ATTACKERS - cut, 'the others refused with 503')
  const after = await timedGet(proxy.url, '198.51.100.7')
  t.equal(after.status, 200, 'the pool is free again once the slow bodies are cut')
  t.ok(await eventually(3000, async () => upstream.openSockets() <= POOL), 'no more legacy connections than the pool')
})

t.test('slow bodies that leave free their legacy connections at once', async (t) => {
  const upstream = await upstreamFor(t)
  // No rate or deadline here: only the clients' leaving can free the connections.
  const proxy = await proxyFor(t, { legacyUrl: upstream.url, ...bounds, 'limits.bodyMinBytesPerSecond': 0, 'limits.bodyTimeoutMs': 0 })
  const attackers = Array.from({ length: ANONYMOUS_PART }, (_, i) => slowBody(proxy.url, `10.1.0.${i}`, 2000))
  t.ok(await eventually(5000, async () => upstream.seen.length >= ANONYMOUS_PART), 'every slow body reached the legacy')
  const full = await timedGet(proxy.url, '198.51.100.7')
  t.equal(full.status, 503, 'the anonymous part of the pool is full')
  t.ok(full.ms < 1000, `and says so within 1 s (${full.ms.toFixed(0)} ms)`)

  for (const attacker of attackers) attacker.leave()
  const started = performance.now()
  t.ok(await eventually(2000, async () => (await timedGet(proxy.url, '198.51.100.7')).status === 200), 'answered again once they left')
  t.ok(performance.now() - started < 2000, 'within moments, not the legacy\'s idle timeout')
  t.ok(await eventually(2000, async () => upstream.openSockets() <= 1), 'their legacy connections are closed')
})

t.test('a verified user has its own share: anonymous slow bodies from its address cannot take it', async (t) => {
  const upstream = await upstreamFor(t)
  // Limits on: credentials the legacy accepted (a 2xx) count as a verified user.
  const proxy = await proxyFor(t, { legacyUrl: upstream.url, ...bounds, 'limits.enabled': true })
  const user = { 'x-forwarded-for': '192.0.2.5', authorization: `Basic ${Buffer.from('arz-klein:klein-Geheim2').toString('base64')}` }
  const first = await request(`${proxy.url}/v2/rezept`, { headers: user })
  await first.body.text()
  t.equal(first.statusCode, 200, 'the legacy accepts the user once')

  const attackers = Array.from({ length: 8 }, () => slowBody(proxy.url, '192.0.2.5', 2000))
  t.teardown(() => attackers.forEach((a) => a.leave()))
  t.ok(await eventually(5000, async () => upstream.seen.filter((s) => s.method === 'POST').length >= 4), 'the address\'s share is taken by slow bodies')
  const anonymous = await timedGet(proxy.url, '192.0.2.5')
  t.equal(anonymous.status, 503, 'an anonymous request from that address is over its share')
  const started = performance.now()
  const polled = await request(`${proxy.url}/v2/rezept`, { headers: user })
  await polled.body.text()
  t.equal(polled.statusCode, 200, 'the verified user from the same address is answered')
  t.ok(performance.now() - started < 1000, 'at once')
})

t.test('300 slow bodies from 300 addresses cannot take the part of the pool kept for verified users', async (t) => {
  const upstream = await upstreamFor(t)
  const proxy = await proxyFor(t, { legacyUrl: upstream.url, ...bounds, 'limits.enabled': true, 'limits.bodyRateGraceMs': 2000 })
  const user = { 'x-forwarded-for': '192.0.2.77', authorization: `Basic ${Buffer.from('arz-klein:klein-Geheim2').toString('base64')}` }
  const first = await request(`${proxy.url}/v2/rezept`, { headers: user })
  await first.body.text()
  t.equal(first.statusCode, 200, 'the legacy accepts the user once')
  const busy: string[] = []
  proxy.events.on((e) => void (e.type === 'upstream.failed' && e.kind === 'busy' && busy.push(e.requestId ?? '')))
  const attackers = Array.from({ length: ATTACKERS }, (_, i) => slowBody(proxy.url, `10.2.${i >> 8}.${i & 255}`, 2000))
  t.teardown(() => attackers.forEach((a) => a.leave()))
  t.ok(await eventually(5000, async () => busy.length >= ATTACKERS - 2 * POOL), 'the anonymous part is full and the rest refused')

  const started = performance.now()
  const polled = await request(`${proxy.url}/v2/rezept`, { headers: user, headersTimeout: 10_000 })
  await polled.body.text()
  t.equal(polled.statusCode, 200, 'the verified user is answered by the legacy')
  t.ok(performance.now() - started < 1000, `within 1 s (${(performance.now() - started).toFixed(0)} ms)`)
  t.ok(upstream.seen.filter((s) => s.method === 'POST').length <= ANONYMOUS_PART, 'anonymous requests at the legacy: at most their part (75 %)')
})

t.test('a body the legacy refuses unread (401 before reading it) frees the legacy connection with the answer, not when the pace check cuts it', async (t) => {
  const upstream = await upstreamFor(t)
  upstream.mode = 'refuse-unread'
  // One connection to the legacy, and a grace long enough that only the answer can free it in time.
  const proxy = await proxyFor(t, { legacyUrl: upstream.url, ...bounds, 'upstream.maxSockets': 1, 'upstream.maxPerClient': 1, 'limits.bodyRateGraceMs': 30_000, 'limits.bodyTimeoutMs': 60_000 })
  const attacker = slowBody(proxy.url, '203.0.113.40', 2000)
  t.teardown(() => attacker.leave())
  const refused = await attacker.answered
  t.equal(refused.status, 401, 'the legacy\'s 401 reaches the client')
  t.ok(await eventually(5000, async () => upstream.openSockets() === 0), 'the legacy connection is closed with the answer')
  upstream.mode = 'answer'
  const normal = await timedGet(proxy.url, '198.51.100.40')
  t.equal(normal.status, 200, 'the one legacy connection serves the next client')
  t.ok(normal.ms < 1000, `at once (${normal.ms.toFixed(0)} ms), not after the 30 s grace`)
})
