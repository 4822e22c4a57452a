// What the cache promises, through two real proxy instances sharing Redis in front of the legacy
// simulator: a write through one is seen by a read through the other at once; a write straight into
// the database shows within maxStaleMs; concurrent readers never see a state older than that.
import t from 'tap'
import pg from 'pg'
import { startLegacySim } from '../../legacy-sim/server.ts'
import { seed } from '../../sql/seed/seed.ts'
import { dotnetTicks } from '../support/dotnet-time.ts'
import { databaseUrl, needsRedis, pgAdminUrl, redisTestPrefix, redisUrl } from '../../dev/services.ts'
import { basic, comparable, get, itemsOf, randomSource, send, setTransferDirectly, sleep, startInstance, toggleCandidates, type Instance, type Item } from './cache-instances.ts'

const KLEIN = basic('arz-klein', 'klein-Geheim2')
const LIST = '/v2/rezept?pageSize=500'
const TTL_MS = 100

const skip = needsRedis()
if (skip.skip !== undefined) t.plan(0, skip.skip)
else await run()

async function run(): Promise<void> {
  const report = await seed({ adminUrl: pgAdminUrl(), prefix: 't_cons_', rows: 300, kleinRows: 3000 })
  const arzswUrl = databaseUrl(report.databases.arzsw)
  const kleinUrl = databaseUrl(report.databases.tenants.klein)
  const sim = await startLegacySim({ arzswUrl, port: 0 })
  t.teardown(() => sim.close())
  const prefix = redisTestPrefix(t, 't_cons')
  const shared = { legacyUrl: sim.url, arzswUrl, redisUrl: redisUrl(), redisKeyPrefix: prefix }
  const a = await startInstance(t, shared)
  const b = await startInstance(t, shared)
  const direct = new pg.Client({ connectionString: kleinUrl })
  await direct.connect()
  t.teardown(() => direct.end())

  const initial = await get(sim.url, LIST, KLEIN)
  const candidates = (await toggleCandidates(kleinUrl, itemsOf(initial.body))).slice(0, 40)
  t.ok(candidates.length >= 10, `enough prescriptions to toggle (${candidates.length})`)
  const random = randomSource(6)
  const pick = (): Item => candidates[Math.floor(random() * candidates.length)]!

  /** Through the proxy: v2 PATCH status, or the v1 routes the SDKs call. */
  async function writeThrough(instance: Instance, item: Item, transferArz: boolean): Promise<void> {
    const answer = transferArz && random() < 0.3
      ? await send(instance.url, 'POST', '/api/v1/Prescriptions/mark-as-read', KLEIN, { prescriptions: [item] })
      : await send(instance.url, 'PATCH', '/v2/rezept/status', KLEIN, { updates: [{ rezeptUuid: item.rezeptUuid, type: item.type, transferArz }] })
    if (answer.status !== 200 || !answer.body.toString().includes('"success":true')) throw new Error(`write failed: ${answer.status} ${answer.body.toString()}`)
  }

  await t.test('read-your-writes: 200 writes through A, each read through B at once, equals the legacy', async (t) => {
    let violations = 0
    let cachedBefore = 0
    for (let i = 0; i < 200; i++) {
      const warm = await get(b.url, LIST, KLEIN)
      if (warm.servedBy === 'cache') cachedBefore++
      await writeThrough(a, pick(), random() < 0.5)
      const [seen, truth] = [await get(b.url, LIST, KLEIN), await get(sim.url, LIST, KLEIN)]
      if (seen.status !== 200 || comparable(seen.body) !== comparable(truth.body)) violations++
    }
    t.equal(violations, 0, 'no read missed the write before it')
    t.ok(cachedBefore > 100, `B's reads between writes were served from its cache (${cachedBefore} of 200), so the test means something`)
  })

  await t.test(`a write straight into the database shows within maxStaleMs (${TTL_MS} ms), 200 changes`, async (t) => {
    const c = await startInstance(t, { ...shared, redisKeyPrefix: `${prefix}ttl:`, fastPath: { cache: { maxStaleMs: TTL_MS } } })
    let violations = 0
    let staleSeen = 0
    for (let i = 0; i < 200; i++) {
      await get(c.url, LIST, KLEIN) // warm: the entry to outlive
      await setTransferDirectly(direct, pick(), random() < 0.5)
      const early = await get(c.url, LIST, KLEIN)
      const truth = await get(sim.url, LIST, KLEIN)
      if (comparable(early.body) !== comparable(truth.body)) staleSeen++
      await sleep(TTL_MS)
      const late = await get(c.url, LIST, KLEIN)
      if (comparable(late.body) !== comparable(truth.body)) violations++
    }
    t.equal(violations, 0, 'every change visible once maxStaleMs passed')
    t.ok(staleSeen > 0, `the cache did answer from before some changes within the bound (${staleSeen} of 200): ttl is a real bound, not a no-op`)
  })

  await t.test('race: concurrent writers and readers on two instances never see a state older than the writes that completed before the read', async (t) => {
    // Each writer owns its prescriptions; the direct writer's are changed in the database itself.
    const owned = [candidates.slice(0, 10), candidates.slice(10, 20), candidates.slice(20, 30)]
    const directOwned = candidates.slice(30, 40)
    interface Write { readonly uuid: string; readonly value: boolean; readonly start: number; readonly end: number; readonly direct: boolean }
    interface Read { readonly start: number; readonly end: number; readonly present: ReadonlySet<string> }
    const writes: Write[] = []
    const reads: Read[] = []
    // The starting state: every candidate present.
    for (const item of candidates) {
      await setTransferDirectly(direct, item, false)
    }
    await sleep(TTL_MS * 3)
    const until = performance.now() + 4000
    const writer = async (items: Item[], through: Instance | undefined): Promise<void> => {
      const local = randomSource(items.length + (through ? 1 : 7))
      while (performance.now() < until) {
        const item = items[Math.floor(local() * items.length)]!
        const value = local() < 0.5
        const start = performance.now()
        if (through) await writeThrough(through, item, value)
        else await setTransferDirectly(direct, item, value)
        writes.push({ uuid: item.rezeptUuid, value, start, end: performance.now(), direct: through === undefined })
      }
    }
    const reader = async (from: Instance): Promise<void> => {
      while (performance.now() < until) {
        const start = performance.now()
        const answer = await get(from.url, LIST, KLEIN)
        reads.push({ start, end: performance.now(), present: new Set(itemsOf(answer.body).map((item) => item.rezeptUuid)) })
      }
    }
    await Promise.all([
      writer(owned[0]!, a), writer(owned[1]!, b), writer(owned[2]!, a), writer(directOwned, undefined),
      reader(a), reader(b), reader(a), reader(b),
    ])
    let checked = 0
    let violations = 0
    let firstViolation = ''
    for (const read of reads) {
      for (const item of candidates) {
        const mine = writes.filter((w) => w.uuid === item.rezeptUuid)
        const direct = mine.length > 0 && mine[0]!.direct
        // Writes through the proxy bind at once; direct ones within maxStaleMs.
        const horizon = direct ? read.start - TTL_MS : read.start
        const settled = mine.filter((w) => w.end <= horizon)
        // A write that was under way while the read ran (or, direct, within the bound) may or may not show.
        if (mine.some((w) => w.end > horizon && w.start < read.end)) continue
        const expected = settled.length === 0 ? true : !settled[settled.length - 1]!.value
        checked++
        if (read.present.has(item.rezeptUuid) !== expected) {
          violations++
          // What the failure needs to be told from load: the write, the read and their times (ms).
          const last = settled.at(-1)
          firstViolation ||= `: e.g. a read begun at ${read.start.toFixed(0)} (ended ${read.end.toFixed(0)}) ${read.present.has(item.rezeptUuid) ? 'shows' : 'misses'} ${item.rezeptUuid}` +
            (last ? `, after a ${last.direct ? 'direct' : 'proxied'} write ${last.start.toFixed(0)}-${last.end.toFixed(0)}` : ', never written')
        }
      }
    }
    t.ok(writes.length > 40 && reads.length > 40, `enough traffic (${writes.length} writes, ${reads.length} reads)`)
    t.ok(checked > 200, `enough unambiguous observations (${checked})`)
    t.equal(violations, 0, `no read older than a write completed before it began${firstViolation}`)
  })

  await t.test('fifty identical concurrent cold requests run one query per type', async (t) => {
    await send(a.url, 'PATCH', '/v2/rezept/status', KLEIN, { updates: [{ rezeptUuid: candidates[0]!.rezeptUuid, type: candidates[0]!.type, transferArz: false }] })
    a.events.length = 0
    const answers = await Promise.all(Array.from({ length: 50 }, () => get(a.url, '/v2/rezept?pageSize=77&type=eMuster16', KLEIN)))
    const pageQueries = a.events.filter((e) => e.type === 'db.query' && /page/i.test(e.name))
    t.equal(pageQueries.length, 1, 'one page query for fifty requests')
    const bodies = new Set(answers.map((answer) => comparable(answer.body)))
    t.equal(bodies.size, 1, 'all fifty got the same answer')
    t.ok(answers.every((answer) => answer.status === 200), 'all answered 200')
  })

  await t.test('a cache hit equals the uncached fast path\'s bytes, with fresh timestamps', async (t) => {
    const targets = ['/v2/rezept', '/v2/rezept?pageSize=5', '/v2/rezept?type=p-rezept&page=2&pageSize=3', '/v2/rezept/status?pharmacyId=x&pageSize=40', '/v2.0/REZEPT?type=E-Rezept']
    const uncached = await startInstance(t, { ...shared, redisKeyPrefix: `${prefix}off:`, fastPath: { cache: { routes: { 'v2.rezept.list': 'off', 'v2.rezept.pharmacy': 'off' } } } })
    for (const target of targets) {
      await get(a.url, target, KLEIN)
      const hit = await get(a.url, target, KLEIN)
      const fresh = await get(uncached.url, target, KLEIN)
      t.equal(hit.servedBy, 'cache', `${target}: served from the cache`)
      t.equal(fresh.servedBy, 'fast', `${target}: the other instance ran the queries`)
      t.equal(comparable(hit.body), comparable(fresh.body), `${target}: same bytes apart from the timestamps`)
    }
    const first = await get(a.url, LIST, KLEIN)
    await sleep(5)
    const second = await get(a.url, LIST, KLEIN)
    const stamp = (body: Buffer) => /"responseTimestamp":"([^"]+)"/.exec(body.toString())![1]!
    t.equal(second.servedBy, 'cache')
    t.ok(dotnetTicks(stamp(second.body)) > dotnetTicks(stamp(first.body)), 'the hit carries a newer responseTimestamp than the answer it was stored from')
  })

  await t.test('instances whose answers differ in their settings never share an entry', async (t) => {
    const live = await startInstance(t, { ...shared, environment: 'Live' })
    const target = '/v2/rezept?pageSize=9'
    await get(a.url, target, KLEIN)
    t.equal((await get(a.url, target, KLEIN)).servedBy, 'cache', 'A stored it (L1 and Redis)')
    const theirs = await get(live.url, target, KLEIN)
    t.equal(theirs.servedBy, 'fast', 'the Live instance does not take it from Redis')
    t.match(theirs.body.toString(), /"environment":"Live"/, 'and answers with its own Environment')
    t.equal((await get(live.url, target, KLEIN)).servedBy, 'cache', 'its own entry it serves')
  })
}
