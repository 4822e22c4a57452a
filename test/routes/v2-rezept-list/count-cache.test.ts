// Counts reused under an unchanged snapshot must never hide a change: every commit (and every in-flight transaction's commit) is seen at once.
import pg from 'pg'
import t from 'tap'
import { execute } from './arzsw-users.ts'
import { basicAuthorization } from './cases.ts'
import { blankVolatile, startComparison, type ComparisonFixture } from './comparison-fixture.ts'
import { databaseUrl } from '../../../dev/services.ts'

const KLEIN = { authorization: basicAuthorization('arz-klein', 'klein-Geheim2') }
const URL_ = '/v2/rezept?pageSize=3'
let fixture: ComparisonFixture

t.before(async () => {
  fixture = await startComparison({ prefix: 't_fast_cnt_', rows: 300, kleinRows: 300, maxPageSize: 500, environment: 'Test' })
})
t.teardown(async () => {
  await fixture?.close()
})

async function totalCounts(): Promise<{ fast: string; legacy: string }> {
  const outcome = await fixture.toFast('v2.rezept.list', 'GET', URL_, KLEIN)
  if (outcome.kind !== 'answer') throw new Error(`deferred: ${outcome.reason}`)
  const legacy = await fixture.toSim('GET', URL_, KLEIN)
  const fast = blankVolatile(outcome.body).text
  t.equal(fast, blankVolatile(legacy.body).text, 'same bytes as the legacy')
  return { fast: /"totalCount":(\d+)/.exec(fast)![1]!, legacy: /"totalCount":(\d+)/.exec(legacy.body.toString())![1]! }
}

function countQueries(): number {
  return fixture.events.filter((e) => e.type === 'db.query' && e.name.includes('_count_')).length
}

t.test('an unchanged database reuses the counts', async (t) => {
  // Any commit in the cluster (other test files seed in parallel) rightly invalidates: try a few pairs.
  let reused = false
  for (let attempt = 0; attempt < 30 && !reused; attempt++) {
    await totalCounts()
    const before = countQueries()
    await totalCounts()
    reused = countQueries() === before
  }
  t.ok(reused, 'a request right after another ran no count')
})

t.test('a committed change is counted at once', async (t) => {
  const first = await totalCounts()
  await execute(databaseUrl(fixture.report.databases.tenants.klein),
    `UPDATE er_senderezepte_emuster16_daten SET transfer_arz = true WHERE id_senderezepte_emuster16_daten =
       (SELECT min(id_senderezepte_emuster16_daten) FROM er_senderezepte_emuster16_daten d
         WHERE transfer_arz = false AND NOT EXISTS (SELECT 1 FROM er_senderezepte_emuster16_daten o
           WHERE o.id_senderezepte_emuster16 = d.id_senderezepte_emuster16 AND o.id_senderezepte_emuster16_daten <> d.id_senderezepte_emuster16_daten)
           AND NOT EXISTS (SELECT 1 FROM er_senderezepte_emuster16_status s WHERE s.id_senderezepte_emuster16 = d.id_senderezepte_emuster16 AND s.rezept_status = 'ABGERECHNET'))`)
  const second = await totalCounts()
  t.equal(Number(second.fast), Number(first.fast) - 1, 'one fewer new prescription')
})

t.test('a transaction in flight during a count is seen when it commits', async (t) => {
  const writer = new pg.Client({ connectionString: databaseUrl(fixture.report.databases.tenants.klein) })
  await writer.connect()
  t.teardown(() => writer.end())
  const first = await totalCounts()
  await writer.query('BEGIN')
  await writer.query(`UPDATE er_senderezepte_prezept_status SET rezept_status = 'ABGERECHNET' WHERE id_senderezepte_prezept_status =
    (SELECT min(s.id_senderezepte_prezept_status) FROM er_senderezepte_prezept_status s
      JOIN er_senderezepte_prezept_daten d ON d.id_senderezepte_prezept = s.id_senderezepte_prezept AND d.transfer_arz = false
     WHERE s.rezept_status <> 'ABGERECHNET'
       AND NOT EXISTS (SELECT 1 FROM er_senderezepte_prezept_status o WHERE o.id_senderezepte_prezept = s.id_senderezepte_prezept AND o.id_senderezepte_prezept_status <> s.id_senderezepte_prezept_status))`)
  t.equal((await totalCounts()).fast, first.fast, 'uncommitted: unchanged')
  await writer.query('COMMIT')
  t.equal(Number((await totalCounts()).fast), Number(first.fast) - 1, 'committed: counted')
})

t.test('with the count cache off every request counts', async (t) => {
  const { createRezeptFastPaths, fastPathSettings } = await import('../../../routes/v2-rezept-list/index.ts')
  const { EventBus } = await import('../../../core/events.ts')
  const bus = new EventBus()
  let counts = 0
  bus.on((e) => { if (e.type === 'db.query' && e.name.includes('_count_')) counts++ })
  const fast = await createRezeptFastPaths(fastPathSettings({ arzswUrl: fixture.arzswUrl, countCache: false, preparedStatements: false, cache: { routes: { 'v2.rezept.list': 'off', 'v2.rezept.pharmacy': 'off' } } }), { events: bus })
  t.teardown(() => fast.close())
  for (let i = 0; i < 2; i++) {
    const outcome = await fast.paths[0]!.handle({ routeId: 'v2.rezept.list', method: 'GET', rawUrl: URL_, headers: KLEIN }, new AbortController().signal)
    t.equal(outcome.kind, 'answer')
  }
  t.equal(counts, 6, 'three types, twice')
})
