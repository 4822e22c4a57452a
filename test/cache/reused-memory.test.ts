// Cache hits are stamped into reused copies (cache/answer-copies.ts). Reuse must never
// show: not in an answer being written, not in one kept for a sampled comparison.
import t from 'tap'
import { AnswerCopies } from '../../cache/answer-copies.ts'
import { templateFromBody } from '../../cache/answer-template.ts'
import { ResponseCache } from '../../cache/response-cache.ts'
import { startLegacySim } from '../../legacy-sim/server.ts'
import { seed } from '../../sql/seed/seed.ts'
import { databaseUrl, needsRedis, pgAdminUrl, redisTestPrefix, redisUrl } from '../../dev/services.ts'
import { basic, comparable, get, startInstance } from './cache-instances.ts'
import { CACHE_DEFAULTS } from './cache-settings.ts'

const KLEIN = basic('arz-klein', 'klein-Geheim2')

t.test('idle copies of a template', async (t) => {
  const template = templateFromBody(Buffer.from('{"prescriptions":[{"deliveryTimestamp":"a"},{"deliveryTimestamp":"b"}],"responseTimestamp":"c"}'))
  const size = template.bytes.length
  const copies = new AnswerCopies({ maxIdleBytes: 3 * size, maxIdlePerTemplate: 2 })
  const first = copies.render(template)
  t.match(first.toString(), /^\{"prescriptions":\[\{"deliveryTimestamp":"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z)"\},\{"deliveryTimestamp":"\1"\}\],"responseTimestamp":"\d{4}-[^"]{23}"\}$/,
    'every hole stamped with a full-length UtcNow text, the items alike')
  copies.give(first)
  t.equal(copies.idleBytes, size, 'given back, it waits for the next hit')
  const again = copies.render(template)
  t.equal(again.buffer, first.buffer, 'the next hit of the template reuses it')
  t.equal(copies.idleBytes, 0)
  t.equal(again.toString().replace(/"\d{4}-[^"]{23}"/g, '"T"'), '{"prescriptions":[{"deliveryTimestamp":"T"},{"deliveryTimestamp":"T"}],"responseTimestamp":"T"}', 'restamped in place')
  copies.give(again)
  copies.give(again)
  t.equal(copies.idleBytes, size, 'given back twice, kept once')
  copies.give(Buffer.from(again))
  t.equal(copies.idleBytes, size, 'memory it never handed out is not taken')
  const other = templateFromBody(Buffer.from('{"prescriptions":[{"deliveryTimestamp":"a"},{"deliveryTimestamp":"b"}],"responseTimestamp":"c"}'))
  const foreign = copies.render(other)
  t.not(foreign.buffer, first.buffer, 'an equal-looking but other template never gets this template\'s copy')
  const [a, b, c] = [copies.render(template), copies.render(template), copies.render(template)]
  for (const copy of [a, b, c]) copies.give(copy)
  t.equal(copies.idleBytes, 2 * size, 'at most maxIdlePerTemplate idle copies of a template')
  copies.give(foreign)
  const big = templateFromBody(Buffer.from(`{"x":"${'y'.repeat(4 * size)}","responseTimestamp":"c"}`))
  copies.give(copies.render(big))
  t.equal(copies.idleBytes, 3 * size, 'a copy larger than maxIdleBytes is not kept')
  copies.clear()
  t.equal(copies.idleBytes, 0)
})

t.test('a hit after recycle() is stamped into the recycled copy of its own template', async (t) => {
  const cache = new ResponseCache({ ...CACHE_DEFAULTS, l1MaxBytes: 10_000_000, maxEntryBytes: 1_000_000, keyPrefix: 't_reuse:' })
  t.teardown(() => cache.close())
  const body = (n: number): Buffer => Buffer.from(JSON.stringify({ prescriptions: [{ n, deliveryTimestamp: 'x' }], responseTimestamp: 'y' }))
  await cache.fill('tenant', 'one', async () => body(1))
  await cache.fill('tenant', 'two', async () => body(2))
  const first = (await cache.get('tenant', 'one'))!
  cache.recycle(first)
  const second = (await cache.get('tenant', 'two'))!
  t.not(second.buffer, first.buffer, 'another entry does not take it')
  t.match(second.toString(), /^\{"prescriptions":\[\{"n":2,"deliveryTimestamp":"[^"]+"\}\],"responseTimestamp":"[^"]+"\}$/)
  const third = (await cache.get('tenant', 'one'))!
  t.equal(third.buffer, first.buffer, 'the same entry does')
  t.match(third.toString(), /^\{"prescriptions":\[\{"n":1,/)
})

const skip = needsRedis()
t.test('concurrent hits of pages of one size class, some kept for sampled comparisons', skip, async (t) => {
  const report = await seed({ adminUrl: pgAdminUrl(), prefix: 't_reuse_', rows: 300, kleinRows: 2000 })
  const arzswUrl = databaseUrl(report.databases.arzsw)
  const sim = await startLegacySim({ arzswUrl, port: 0 })
  t.teardown(() => sim.close())
  const prefix = redisTestPrefix(t, 't_reuse')
  // Four pages served concurrently and over again: a copy recycled too early would be restamped
  // under a reader (caught in timestamps kept for comparison) or show another page.
  const targets = [1, 2, 3, 4].map((page) => `/v2/rezept?type=eMuster16&pageSize=100&page=${page}`)
  const truth = new Map<string, string>()
  for (const target of targets) truth.set(target, comparable((await get(sim.url, target, KLEIN)).body))

  for (const samplePercent of [0, 50]) {
    const instance = await startInstance(t, {
      legacyUrl: sim.url, arzswUrl, redisUrl: redisUrl(), redisKeyPrefix: `${prefix}${samplePercent}:`,
      'shadow.samplePercent': samplePercent, 'shadow.sampleMaxPerSecond': 10_000, fastPath: { cache: { maxStaleMs: 60_000 } },
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
