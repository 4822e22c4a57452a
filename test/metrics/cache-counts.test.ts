// The response cache's own counts on the admin /metrics, through the production wiring
// (wireFastPaths → proxyDepsOf → startProxy): loads begun for misses, and Redis errors — which the
// cache survives by itself, so without this metric nobody would see them.
import t from 'tap'
import { request } from 'undici'
import { startLegacySim } from '../../legacy-sim/server.ts'
import { seed } from '../../sql/seed/seed.ts'
import { databaseUrl, needsRedis, pgAdminUrl, redisTestPrefix, redisUrl } from '../../dev/services.ts'
import { redisRelay } from '../support/tcp-relay.ts'
import { basic, get, sleep, startInstance } from '../cache/cache-instances.ts'
import { METRICS } from '../../proxy/metrics/catalogue.ts'
import { parseExposition, valueOf } from './support/exposition.ts'

const KLEIN = basic('arz-klein', 'klein-Geheim2')

async function scrape(adminUrl: string): Promise<{ redisErrors: number | undefined; loads: number | undefined }> {
  const answer = await request(`${adminUrl}/metrics`)
  const samples = parseExposition(await answer.body.text())
  return { redisErrors: valueOf(samples, METRICS.cacheRedisErrors.name), loads: valueOf(samples, METRICS.cacheLoads.name) }
}

const skip = needsRedis()
if (skip.skip !== undefined) t.plan(0, skip.skip)
else await run()

async function run(): Promise<void> {
  const report = await seed({ adminUrl: pgAdminUrl(), prefix: 't_cache_counts_', rows: 300, kleinRows: 300 })
  const arzswUrl = databaseUrl(report.databases.arzsw)
  const sim = await startLegacySim({ arzswUrl, port: 0 })
  t.teardown(() => sim.close())
  const relay = await redisRelay(redisUrl())
  t.teardown(() => relay.cut())
  const instance = await startInstance(t, { legacyUrl: sim.url, arzswUrl, redisUrl: relay.url, redisKeyPrefix: redisTestPrefix(t, 't_cache_counts') })

  await t.test('a miss begins a load; a hit does not', async (t) => {
    const before = await scrape(instance.proxy.adminUrl)
    t.equal(before.redisErrors, 0, 'no Redis error while Redis is there')
    t.equal((await get(instance.url, '/v2/rezept?pageSize=4', KLEIN)).status, 200)
    t.equal((await get(instance.url, '/v2/rezept?pageSize=4', KLEIN)).servedBy, 'cache', 'the second is a hit')
    const after = await scrape(instance.proxy.adminUrl)
    t.equal(after.loads! - before.loads!, 1, 'one load for the two requests')
  })

  await t.test('Redis gone: requests are still answered, and the scrape counts the Redis errors', async (t) => {
    await relay.cut()
    await sleep(300)
    for (const target of ['/v2/rezept?pageSize=5', '/v2/rezept?pageSize=4', '/v2/rezept/status?pageSize=3']) {
      t.equal((await get(instance.url, target, KLEIN)).status, 200, `${target} answered`)
    }
    const deadline = Date.now() + 5000
    let seen = await scrape(instance.proxy.adminUrl)
    while ((seen.redisErrors ?? 0) < 1 && Date.now() < deadline) {
      await sleep(100)
      seen = await scrape(instance.proxy.adminUrl)
    }
    t.ok((seen.redisErrors ?? 0) >= 1, `fastpath_cache_redis_errors_total ${seen.redisErrors}`)
  })
}
