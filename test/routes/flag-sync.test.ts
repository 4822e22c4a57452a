// Two proxy instances sharing a Redis: a flag changed on one is seen by the other within a second,
// survives in Redis for an instance started later, and a missed message heals by the periodic re-read.
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import t from 'tap'
import { deleteRedisKeys, needsRedis, redisUrl } from '../../dev/services.ts'
import { redisRelay } from '../support/tcp-relay.ts'
import { startEchoUpstream } from '../proxy/support/echo-upstream.ts'
import { proxyFor } from '../proxy/support/proxy-under-test.ts'
import { rawExchange } from '../proxy/support/raw-exchange.ts'
import { stubFastPath, STUB_BODY } from '../proxy/support/stub-fast-paths.ts'

t.test('a flag change on one instance reaches the other within one second', needsRedis(), async (t) => {
  const prefix = `t_proxy:${randomUUID()}:`
  t.teardown(() => deleteRedisKeys(prefix))
  const upstream = await startEchoUpstream()
  t.teardown(() => upstream.close())
  const shared = { legacyUrl: upstream.url, redisUrl: redisUrl(), redisKeyPrefix: prefix, flagRefreshMs: 5000 }
  const a = await proxyFor(t, shared, { fastPaths: [stubFastPath('v2.rezept.list', 'answer')] })
  const b = await proxyFor(t, shared, { fastPaths: [stubFastPath('v2.rezept.list', 'answer')] })

  const started = performance.now()
  const put = await fetch(`${a.adminUrl}/flags/v2.rezept.list`, { method: 'PUT', body: '{"mode":"on"}' })
  t.same(await put.json(), { routeId: 'v2.rezept.list', from: { mode: 'off' }, flag: { mode: 'on' }, changed: true, propagated: true, instances: 'every instance (stored in Redis)' })
  while (b.flags.get('v2.rezept.list').mode !== 'on' && performance.now() - started < 2000) await new Promise((r) => setTimeout(r, 5))
  const elapsed = performance.now() - started
  t.equal(b.flags.get('v2.rezept.list').mode, 'on', 'the other instance switched')
  t.ok(elapsed < 1000, `within one second (${elapsed.toFixed(0)} ms)`)
  t.same((await rawExchange(b.url, { method: 'GET', target: '/v2/rezept' })).body, STUB_BODY, 'and its next request goes fast')

  const c = await proxyFor(t, shared)
  t.equal(c.flags.get('v2.rezept.list').mode, 'on', 'an instance started later adopts the flag stored in Redis')
})

t.test('a flag written to Redis without a message is picked up by the periodic re-read', needsRedis(), async (t) => {
  const prefix = `t_proxy:${randomUUID()}:`
  t.teardown(() => deleteRedisKeys(prefix))
  const upstream = await startEchoUpstream()
  t.teardown(() => upstream.close())
  const proxy = await proxyFor(t, { legacyUrl: upstream.url, redisUrl: redisUrl(), redisKeyPrefix: prefix, flagRefreshMs: 100 })
  const redis = new Redis(redisUrl())
  t.teardown(() => redis.disconnect())
  await redis.hset(`${prefix}flags`, 'v2.rezept.pharmacy', 'canary:25')
  await redis.hset(`${prefix}flags`, 'v2.rezept.list', 'nonsense')
  const started = performance.now()
  while (proxy.flags.get('v2.rezept.pharmacy').mode !== 'canary' && performance.now() - started < 2000) await new Promise((r) => setTimeout(r, 10))
  t.same(proxy.flags.get('v2.rezept.pharmacy'), { mode: 'canary', percent: 25 })
  t.same(proxy.flags.get('v2.rezept.list'), { mode: 'off' }, 'a value that does not parse is ignored')
  const ready = await fetch(`${proxy.adminUrl}/readyz`)
  t.match(await ready.json(), { checks: { redis: true } }, 'readiness includes Redis when configured')
})

t.test('Redis away at start does not stop the proxy; a flag set during an outage is not undone when Redis returns', needsRedis(), async (t) => {
  const prefix = `t_proxy:${randomUUID()}:`
  t.teardown(() => deleteRedisKeys(prefix))
  const upstream = await startEchoUpstream()
  t.teardown(() => upstream.close())
  const relay = await redisRelay(redisUrl())
  await relay.cut()
  const shared = { legacyUrl: upstream.url, redisUrl: relay.url, redisKeyPrefix: prefix, flagRefreshMs: 100, flags: 'v2.rezept.list=on' }
  const a = await proxyFor(t, shared)
  t.equal(a.flags.get('v2.rezept.list').mode, 'on', 'started on its configured flags without Redis')
  await relay.restore()
  t.teardown(() => relay.cut())
  const seeded = new Redis(redisUrl())
  t.teardown(() => seeded.disconnect())
  let stored: string | null = null
  for (let i = 0; i < 100 && stored === null; i++) {
    stored = await seeded.hget(`${prefix}flags`, 'v2.rezept.list')
    await new Promise((r) => setTimeout(r, 50))
  }
  t.equal(stored, 'on', 'it reached Redis once Redis came')

  await relay.cut()
  const put = await fetch(`${a.adminUrl}/flags/v2.rezept.list`, { method: 'PUT', body: '{"mode":"off"}' })
  t.equal((await put.json() as { propagated: boolean }).propagated, false, 'the change is applied here, not yet stored')
  await relay.restore()
  await new Promise((r) => setTimeout(r, 1500))
  t.equal(a.flags.get('v2.rezept.list').mode, 'off', 'Redis\'s older value did not undo it')
  t.equal(await seeded.hget(`${prefix}flags`, 'v2.rezept.list'), 'off', 'and Redis holds it now')
})
