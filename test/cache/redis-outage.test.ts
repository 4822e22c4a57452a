// Redis stopped in the middle of traffic through two proxies: no request fails, the cache runs from
// memory, and once Redis is back the shared tier is used again by itself. The metrics say so.
import t from 'tap'
import { request } from 'undici'
import { startLegacySim } from '../../legacy-sim/server.ts'
import { seed } from '../../sql/seed/seed.ts'
import { databaseUrl, needsRedis, pgAdminUrl, redisTestPrefix, redisUrl } from '../../dev/services.ts'
import { redisRelay } from '../support/tcp-relay.ts'
import { basic, get, sleep, startInstance } from './cache-instances.ts'

const KLEIN = basic('arz-klein', 'klein-Geheim2')

async function metric(adminUrl: string, name: string): Promise<number | undefined> {
  const res = await request(`${adminUrl}/metrics`)
  const text = await res.body.text()
  const line = text.split('\n').find((l) => l.startsWith(name + ' ') || l.startsWith(name + '{'))
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1))
}

const skip = needsRedis()
if (skip.skip !== undefined) t.plan(0, skip.skip)
else await run()

async function run(): Promise<void> {
  const report = await seed({ adminUrl: pgAdminUrl(), prefix: 't_redis_out_', rows: 300, kleinRows: 600 })
  const arzswUrl = databaseUrl(report.databases.arzsw)
  const sim = await startLegacySim({ arzswUrl, port: 0 })
  t.teardown(() => sim.close())
  const relay = await redisRelay(redisUrl())
  t.teardown(() => relay.cut())
  const prefix = redisTestPrefix(t, 't_redis_out')
  const shared = { legacyUrl: sim.url, arzswUrl, redisUrl: relay.url, redisKeyPrefix: prefix }
  const a = await startInstance(t, shared)
  const b = await startInstance(t, shared)
  const targets = ['/v2/rezept?pageSize=20', '/v2/rezept?type=eMuster16&pageSize=7', '/v2/rezept/status?pageSize=3']

  await t.test('before: the metrics see Redis and the tenant pool', async (t) => {
    await get(a.url, targets[0]!, KLEIN)
    t.equal(await metric(a.proxy.adminUrl, 'fastpath_redis_up'), 1, 'fastpath_redis_up 1')
    t.ok((await metric(a.proxy.adminUrl, 'fastpath_pool_connections') ?? 0) >= 1, 'a tenant pool is reported')
  })

  await t.test('Redis cut and restored in the middle of traffic: no request fails, L2 is used again', async (t) => {
    let failures = 0
    let answered = 0
    let running = true
    const traffic = (async () => {
      let i = 0
      while (running) {
        const instance = i % 2 === 0 ? a : b
        const answer = await get(instance.url, targets[i % targets.length]!, KLEIN).catch(() => undefined)
        if (answer === undefined || answer.status !== 200) failures++
        else answered++
        i++
      }
    })()
    await sleep(300)
    await relay.cut()
    await sleep(1500)
    t.equal(await metric(a.proxy.adminUrl, 'fastpath_redis_up'), 0, 'fastpath_redis_up 0 while Redis is away')
    const duringOutage = answered
    await relay.restore()
    const deadline = Date.now() + 8000
    while ((await metric(a.proxy.adminUrl, 'fastpath_redis_up')) !== 1 || (await metric(b.proxy.adminUrl, 'fastpath_redis_up')) !== 1) {
      if (Date.now() > deadline) break
      await sleep(100)
    }
    await sleep(300)
    running = false
    await traffic
    t.equal(failures, 0, `no request failed (${answered} answered, ${duringOutage} of them before Redis came back)`)
    t.equal(await metric(b.proxy.adminUrl, 'fastpath_redis_up'), 1, 'both instances reconnected by themselves')
    // L2 again: a page filled on A is served by B from Redis.
    const target = '/v2/rezept?pageSize=11&page=2'
    b.events.length = 0
    await get(a.url, target, KLEIN)
    await sleep(100)
    t.equal((await get(b.url, target, KLEIN)).servedBy, 'cache', 'B answers from the cache')
    t.ok(b.events.some((e) => e.type === 'cache.lookup' && e.outcome === 'hit-l2'), 'from Redis (hit-l2)')
  })
}
