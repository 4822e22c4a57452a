// Randomised (seeded) statusuuid reads over randomised rows: the fast path's bytes must equal the
// legacy simulator's. Rows: random texts, statuses, dates, NULLs, 0-3 daten rows (new, NULL, transferred).
// Requests: random subsets of the tenant's uuids (new or not), unknown ones, duplicates, any order.
import pg from 'pg'
import t from 'tap'
import { databaseUrl } from '../../../dev/services.ts'
import { basicAuthorization } from '../v2-rezept-list/cases.ts'
import { startComparison, type ComparisonFixture } from '../v2-rezept-list/comparison-fixture.ts'
import { createRandomTenant, seededRandom } from '../v2-rezept-list/random-tenant.ts'
import { blankStatusBody, sendWithBody, STATUS_PATH } from './status-cases.ts'

const SEED = Number(process.env.FASTPATH_RANDOM_SEED ?? 20261203)
const DATABASE = 't_suuid_rand_apoti_zufall'
let fixture: ComparisonFixture
let authorization: string
let uuids: string[] = []

t.before(async () => {
  fixture = await startComparison({ prefix: 't_suuid_rand_', rows: 300, kleinRows: 300, maxPageSize: 40, environment: 'Test' })
  const tenant = await createRandomTenant({ arzswUrl: fixture.arzswUrl, database: DATABASE, login: 'arz-zufall', password: 'zufall-Geheim', seed: SEED, perType: 150 })
  authorization = basicAuthorization(tenant.login, tenant.password)
  const db = new pg.Client({ connectionString: databaseUrl(DATABASE) })
  await db.connect()
  try {
    const rows = await db.query<{ rezept_uuid: string }>(
      `SELECT rezept_uuid FROM er_senderezepte_emuster16_daten UNION ALL SELECT rezept_uuid FROM er_senderezepte_prezept_daten
       UNION ALL SELECT rezept_uuid FROM er_senderezepte_erezept_daten`)
    uuids = rows.rows.map((r) => r.rezept_uuid).filter((u) => u !== null)
  } finally {
    await db.end()
  }
})
t.teardown(async () => {
  await fixture?.close()
})

t.test(`random statusuuid reads over random rows (seed ${SEED}) give the legacy's bytes`, async (t) => {
  t.ok(uuids.length > 200, `${uuids.length} uuids in the random tenant`)
  const random = seededRandom(SEED + 1)
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!
  const path = fixture.path('v2.rezept.statusuuid')
  const headers = { authorization, 'content-type': 'application/json' }
  let found = 0
  for (let i = 0; i < 60; i++) {
    const size = pick([1, 1, 2, 3, 5, 10, 30, 100, 400])
    const asked: string[] = []
    for (let k = 0; k < size; k++) {
      const roll = random()
      asked.push(roll < 0.7 ? pick(uuids) : roll < 0.85 && asked.length > 0 ? pick(asked) : `${pick(uuids)}${pick(['x', '', ' ', 'ä'])}`)
    }
    const body = Buffer.from(JSON.stringify({ rezeptUuids: asked }), 'utf8')
    const legacy = await sendWithBody(fixture.sim.port, 'PATCH', STATUS_PATH, headers, body)
    const outcome = await path.handle({ routeId: 'v2.rezept.statusuuid', method: 'PATCH', rawUrl: STATUS_PATH, headers, body }, new AbortController().signal)
    const name = `request ${i} (${size} uuids)`
    if (outcome.kind !== 'answer') {
      t.fail(`${name}: deferred (${outcome.reason}) ${outcome.error?.message ?? ''}; legacy said ${legacy.status}`)
      continue
    }
    t.equal(outcome.status, legacy.status, `${name}: status`)
    const actual = blankStatusBody(outcome.body)
    t.same(actual.malformed, [], `${name}: timestamp in UtcNow form`)
    t.equal(actual.text, blankStatusBody(legacy.body).text, `${name}: same bytes`)
    found += Number(/"successCount":(\d+)/.exec(actual.text)?.[1] ?? 0)
  }
  t.ok(found > 100, `${found} items found over the run`)
})
