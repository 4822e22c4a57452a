// cdc mode end to end: a proxy whose cache follows the tenant's change stream (a PostgreSQL with
// wal_level=logical: an embedded one) shows a change written straight into the database within
// 500 ms, although its ttl bound is far longer; a killed replication connection drops the entries.
import t from 'tap'
import pg from 'pg'
import { startEmbeddedPostgres } from '../../proxy/demo/embedded-postgres.ts'
import { startLegacySim } from '../../legacy-sim/server.ts'
import { seed } from '../../sql/seed/seed.ts'
import { PRESCRIPTION_TYPES } from '../../sql/queries/prescription-types.ts'
import { needsRedis, redisTestPrefix, redisUrl } from '../../dev/services.ts'
import { basic, comparable, get, itemsOf, randomSource, setTransferDirectly, sleep, startInstance, toggleCandidates, type Item } from './cache-instances.ts'

const KLEIN = basic('arz-klein', 'klein-Geheim2')
const LIST = '/v2/rezept?pageSize=500'
const BOUND_MS = 500

const skip = needsRedis()
if (skip.skip !== undefined) t.plan(0, skip.skip)
// A set-up that fails (a server that cannot start) fails this file with the reason, not a crash.
else await run().catch((error: Error) => t.fail(`set-up failed: ${error.message}`))

async function run(): Promise<void> {
  const server = await startEmbeddedPostgres({ settings: { wal_level: 'logical' } })
  t.teardown(() => server.stop())
  const at = (database: string): string => {
    const url = new URL(server.adminUrl)
    url.pathname = `/${database}`
    return url.toString()
  }
  const report = await seed({ adminUrl: server.adminUrl, prefix: 't_cdc_proxy_', rows: 300, kleinRows: 3000 })
  const arzswUrl = at(report.databases.arzsw)
  const kleinUrl = at(report.databases.tenants.klein)
  const direct = new pg.Client({ connectionString: kleinUrl })
  await direct.connect()
  t.teardown(() => direct.end())
  const tables = PRESCRIPTION_TYPES.flatMap((type) => [type.main, type.daten, type.status])
  await direct.query(`CREATE PUBLICATION fastpath_changes FOR TABLE ${tables.join(', ')}`)

  const sim = await startLegacySim({ arzswUrl, port: 0 })
  t.teardown(() => sim.close())
  const prefix = redisTestPrefix(t, 't_cdc')
  // The ttl bound is a minute: only the change stream can make a change show within 500 ms.
  const proxy = await startInstance(t, {
    legacyUrl: sim.url, arzswUrl, redisUrl: redisUrl(), redisKeyPrefix: prefix,
    fastPath: { cache: { routes: { 'v2.rezept.list': 'cdc', 'v2.rezept.pharmacy': 'cdc' }, maxStaleMs: 60_000, changeFeedMaxStaleMs: 120_000 } },
  })
  const candidates = (await toggleCandidates(kleinUrl, itemsOf((await get(sim.url, LIST, KLEIN)).body))).slice(0, 40)
  const random = randomSource(11)
  const pick = (): Item => candidates[Math.floor(random() * candidates.length)]!

  // The first request starts the stream; wait until the cache trusts it.
  const followed = Date.now()
  while ((await get(proxy.url, LIST, KLEIN)).servedBy !== 'cache' || Date.now() - followed < 300) await sleep(50)

  await t.test(`a direct change shows within ${BOUND_MS} ms, 200 changes`, async (t) => {
    let violations = 0
    let worst = 0
    let hits = 0
    for (let i = 0; i < 200; i++) {
      if ((await get(proxy.url, LIST, KLEIN)).servedBy === 'cache') hits++
      await setTransferDirectly(direct, pick(), random() < 0.5)
      const committed = performance.now()
      const truth = comparable((await get(sim.url, LIST, KLEIN)).body)
      let seenAfter = Infinity
      // A read that began within the bound must show the change: time counts to the read's start.
      for (let began = performance.now() - committed; began < BOUND_MS; began = performance.now() - committed) {
        if (comparable((await get(proxy.url, LIST, KLEIN)).body) === truth) {
          seenAfter = began
          break
        }
        await sleep(10)
      }
      if (seenAfter === Infinity) violations++
      else worst = Math.max(worst, seenAfter)
    }
    t.equal(violations, 0, `every change visible within ${BOUND_MS} ms (slowest: a read begun ${worst.toFixed(0)} ms after the commit)`)
    t.ok(hits > 150, `the reads between changes came from the cache (${hits} of 200)`)
  })

  await t.test('a killed replication connection drops the tenant\'s entries, and the stream comes back', async (t) => {
    t.equal((await get(proxy.url, LIST, KLEIN)).servedBy, 'cache', 'cached before')
    proxy.events.length = 0
    const admin = new pg.Client({ connectionString: server.adminUrl })
    await admin.connect()
    const killed = await admin.query<{ pid: number }>(`SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'walsender'`)
    await admin.end()
    t.ok(killed.rowCount! >= 1, 'a walsender was terminated')
    const deadline = Date.now() + 5000
    while (!proxy.events.some((e) => e.type === 'cache.invalidated' && e.cause === 'gap') && Date.now() < deadline) await sleep(20)
    t.ok(proxy.events.some((e) => e.type === 'cache.invalidated' && e.cause === 'gap'), 'the gap was told to the cache')
    t.equal((await get(proxy.url, LIST, KLEIN)).servedBy, 'fast', 'the next read goes to the database')
    // Back on the stream: a change is heard again. Waited for by the walsender streaming again, not
    // by a fixed sleep: on a busy machine the reconnect can take longer than any sleep one picks.
    await untilStreaming(server.adminUrl, killed.rows.map((r) => r.pid))
    await get(proxy.url, LIST, KLEIN)
    await setTransferDirectly(direct, pick(), random() < 0.5)
    const truth = comparable((await get(sim.url, LIST, KLEIN)).body)
    await sleep(BOUND_MS)
    t.equal(comparable((await get(proxy.url, LIST, KLEIN)).body), truth, 'a change after the reconnect is visible within the bound')
  })

  // Here, unlike on the shared test server, nothing but this file writes: a PostgreSQL snapshot stays
  // equal while nobody writes, which is what a ttl entry's revalidation asks (count-cache.ts).
  await t.test('ttl mode, quiet database: a stale entry is revalidated by one snapshot query, a change still shows', async (t) => {
    const ttl = await startInstance(t, { legacyUrl: sim.url, arzswUrl, redisUrl: redisUrl(), redisKeyPrefix: `${prefix}ttl:`, fastPath: { cache: { maxStaleMs: 150 } } })
    const outcomes = (): string[] => ttl.events.flatMap((e) => (e.type === 'cache.lookup' ? [e.outcome] : []))
    const pageQueries = (): number => ttl.events.filter((e) => e.type === 'db.query' && e.name.includes('_page_')).length
    await get(ttl.url, LIST, KLEIN)
    let revalidated = false
    // Autovacuum may commit now and then: a few tries.
    for (let attempt = 0; attempt < 10 && !revalidated; attempt++) {
      await sleep(200)
      const pagesBefore = pageQueries()
      const answer = await get(ttl.url, LIST, KLEIN)
      revalidated = outcomes().at(-1) === 'revalidated'
      if (revalidated) {
        t.equal(answer.servedBy, 'cache', 'served as a cache hit')
        t.equal(pageQueries(), pagesBefore, 'without a page query')
        t.equal(comparable(answer.body), comparable((await get(sim.url, LIST, KLEIN)).body), 'the legacy\'s answer')
      }
    }
    t.ok(revalidated, 'an entry past its bound was revalidated')
    let violations = 0
    for (let i = 0; i < 20; i++) {
      await get(ttl.url, LIST, KLEIN)
      await setTransferDirectly(direct, pick(), random() < 0.5)
      await sleep(200)
      const [seen, truth] = [await get(ttl.url, LIST, KLEIN), await get(sim.url, LIST, KLEIN)]
      if (comparable(seen.body) !== comparable(truth.body)) violations++
    }
    t.equal(violations, 0, 'a direct change is never hidden by a revalidation (20 changes, each read past the bound)')
  })
}

/** Resolves once a walsender other than the killed ones streams (the change stream is back); fails after 20 s. */
async function untilStreaming(adminUrl: string, killed: number[]): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  try {
    const deadline = Date.now() + 20_000
    while ((await admin.query(`SELECT 1 FROM pg_stat_replication WHERE state = 'streaming' AND pid <> ALL($1)`, [killed])).rowCount === 0) {
      if (Date.now() > deadline) throw new Error('the change stream did not come back within 20 s')
      await sleep(20)
    }
  } finally {
    await admin.end()
  }
}
