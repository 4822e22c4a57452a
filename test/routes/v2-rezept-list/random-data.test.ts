// Randomised data (seeded PRNG) and randomised requests: the fast path's bytes must equal the legacy simulator's.
import t from 'tap'
import { basicAuthorization } from './cases.ts'
import { blankVolatile, startComparison, type ComparisonFixture } from './comparison-fixture.ts'
import { createRandomTenant, seededRandom } from './random-tenant.ts'

const SEED = Number(process.env.FASTPATH_RANDOM_SEED ?? 20251019)
let fixture: ComparisonFixture
let authorization: string

t.before(async () => {
  fixture = await startComparison({ prefix: 't_fast_rand_', rows: 300, kleinRows: 300, maxPageSize: 40, environment: 'Staging <&>' })
  const tenant = await createRandomTenant({ arzswUrl: fixture.arzswUrl, database: 't_fast_rand_apoti_zufall', login: 'arz-zufall', password: 'zufall-Geheim', seed: SEED, perType: 150 })
  authorization = basicAuthorization(tenant.login, tenant.password)
})
t.teardown(async () => {
  await fixture?.close()
})

t.test(`random requests over random rows (seed ${SEED}) give the legacy's bytes`, async (t) => {
  const random = seededRandom(SEED + 1)
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!
  for (let i = 0; i < 80; i++) {
    const parts: string[] = []
    const type = pick([null, 'eMuster16', 'P-Rezept', 'E-Rezept', 'e-rezept', 'x'])
    if (type !== null) parts.push(`type=${type}`)
    if (random() < 0.8) parts.push(`page=${pick([1, 1, 2, 3, 5, 20])}`)
    if (random() < 0.8) parts.push(`pageSize=${pick([0, 1, 3, 7, 40, 41, 100])}`)
    const route = random() < 0.5 ? 'v2.rezept.list' as const : 'v2.rezept.pharmacy' as const
    const rawUrl = (route === 'v2.rezept.list' ? '/v2/rezept' : '/v2/rezept/status') + (parts.length ? '?' + parts.join('&') : '')
    const headers = { authorization }
    const legacy = await fixture.toSim('GET', rawUrl, headers)
    const outcome = await fixture.toFast(route, 'GET', rawUrl, headers)
    if (outcome.kind !== 'answer') {
      t.fail(`${rawUrl}: deferred (${outcome.reason}) ${outcome.error?.message ?? ''}; legacy said ${legacy.status}`)
      continue
    }
    t.equal(outcome.status, legacy.status, `${rawUrl}: status`)
    const actual = blankVolatile(outcome.body)
    t.same(actual.malformed, [], `${rawUrl}: timestamps in UtcNow form`)
    t.equal(actual.text, blankVolatile(legacy.body).text, `${rawUrl}: same bytes`)
  }
})
