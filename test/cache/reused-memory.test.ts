// Cache hits are rendered into reused memory (routes/fast-path/answer-buffers.ts). Reuse must never
// show: not in an answer being written, not in one kept for a sampled comparison.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { AnswerBuffers } from '../../routes/fast-path/answer-buffers.ts'
import { ResponseCache } from '../../routes/fast-path/response-cache.ts'
import { startLegacySim } from '../../legacy-sim/server.ts'
import { seed } from '../../sql/seed/seed.ts'
import { databaseUrl, needsRedis, pgAdminUrl, redisUrl } from '../support/services.ts'
import { basic, comparable, get, startInstance } from './cache-instances.ts'

const KLEIN = basic('arz-klein', 'klein-Geheim2')

t.test('the buffer pool', async (t) => {
  const pool = new AnswerBuffers({ maxPooledBytes: 1024 * 1024, maxPerClass: 2 })
  const first = pool.take(100_000)
  t.equal(first.length, 128 * 1024, 'a whole size class (64 KiB steps)')
  pool.give(first.subarray(0, 100_000))
  t.equal(pool.pooledBytes, 128 * 1024, 'a view of it brings the whole buffer back')
  const again = pool.take(70_000)
  t.equal(again.buffer, first.buffer, 'the same memory serves the next answer of its class')
  t.equal(pool.pooledBytes, 0)
  pool.give(again)
  pool.give(again)
  t.equal(pool.pooledBytes, 128 * 1024, 'given back twice, kept once')
  pool.give(Buffer.allocUnsafeSlow(128 * 1024))
  t.equal(pool.pooledBytes, 128 * 1024, 'memory it never handed out is not taken')
  const [a, b, c] = [pool.take(1), pool.take(1), pool.take(1)]
  for (const buffer of [a, b, c]) pool.give(buffer)
  t.equal(pool.pooledBytes, 128 * 1024 + 2 * 64 * 1024, 'at most maxPerClass free buffers per class')
  const big = pool.take(900 * 1024)
  pool.give(big)
  t.equal(pool.pooledBytes, 128 * 1024 + 2 * 64 * 1024, 'nothing beyond maxPooledBytes is kept')
  pool.clear()
  t.equal(pool.pooledBytes, 0)
})

t.test('a hit after recycle() is written into the recycled memory, with its own bytes', async (t) => {
  const cache = new ResponseCache({ l1MaxBytes: 10_000_000, maxEntryBytes: 1_000_000, keyPrefix: 't_reuse:' })
  t.teardown(() => cache.close())
  const body = (n: number): Buffer => Buffer.from(JSON.stringify({ prescriptions: [{ n, deliveryTimestamp: 'x' }], responseTimestamp: 'y' }))
  await cache.fill('tenant', 'one', async () => body(1))
  await cache.fill('tenant', 'two', async () => body(2))
  const first = (await cache.get('tenant', 'one'))!
  cache.recycle(first)
  const second = (await cache.get('tenant', 'two'))!
  t.equal(second.buffer, first.buffer, 'the memory was reused')
  t.match(second.toString(), /^\{"prescriptions":\[\{"n":2,"deliveryTimestamp":"[^"]+"\}\],"responseTimestamp":"[^"]+"\}$/, 'and holds the second answer only')
  const third = (await cache.get('tenant', 'one'))!
  t.not(third.buffer, second.buffer, 'memory not given back is never handed out again')
})

const skip = needsRedis()
t.test('concurrent hits of pages of one size class, some kept for sampled comparisons', skip, async (t) => {
  const report = await seed({ adminUrl: pgAdminUrl(), prefix: 't_reuse_', rows: 300, kleinRows: 2000 })
  const arzswUrl = databaseUrl(report.databases.arzsw)
  const sim = await startLegacySim({ arzswUrl, port: 0 })
  t.teardown(() => sim.close())
  const prefix = `t_reuse:${randomUUID().slice(0, 8)}:`
  t.teardown(async () => {
    const redis = new Redis(redisUrl())
    const keys = await redis.keys(`${prefix}*`)
    if (keys.length > 0) await redis.del(...keys)
    redis.disconnect()
  })
  // Pages 1-4 of 100 items are about the same size: they share a size class, so a body recycled too
  // early would be overwritten by another page's bytes, not by the same page with other timestamps.
  const targets = [1, 2, 3, 4].map((page) => `/v2/rezept?type=eMuster16&pageSize=100&page=${page}`)
  const truth = new Map<string, string>()
  for (const target of targets) truth.set(target, comparable((await get(sim.url, target, KLEIN)).body))

  for (const samplePercent of [0, 50]) {
    const instance = await startInstance(t, {
      legacyUrl: sim.url, arzswUrl, redisUrl: redisUrl(), redisKeyPrefix: `${prefix}${samplePercent}:`,
      'shadow.samplePercent': samplePercent, fastPath: { cache: { maxStaleMs: 60_000 } },
    })
    let wrong = 0
    let cached = 0
    for (let round = 0; round < 15; round++) {
      const answers = await Promise.all(targets.flatMap((target) => [0, 1, 2].map(async () => ({ target, answer: await get(instance.url, target, KLEIN) }))))
      for (const { target, answer } of answers) {
        if (answer.servedBy === 'cache') cached++
        if (answer.status !== 200 || comparable(answer.body) !== truth.get(target)) wrong++
      }
    }
    await instance.proxy.shadowComparison.comparator.settled()
    t.equal(wrong, 0, `sample ${samplePercent} %: every answer is its own page's`)
    t.ok(cached > 150, `sample ${samplePercent} %: mostly cache hits (${cached} of 180)`)
    const compared = instance.events.filter((e) => e.type === 'shadow.compared')
    if (samplePercent > 0) {
      t.ok(compared.length > 30, `comparisons ran (${compared.length})`)
      t.same(compared.filter((e) => e.type === 'shadow.compared' && e.outcome !== 'match').map((e) => e.type === 'shadow.compared' && e.outcome), [],
        'every kept answer still equals the legacy\'s when compared later')
      t.equal(instance.proxy.flags.get('v2.rezept.list').mode, 'on', 'nothing was demoted')
    }
  }
})
