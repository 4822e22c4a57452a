// Randomised data (seeded PRNG: several daten rows per prescription, NULL numbers, every character class)
// and randomised v1 GET new requests: the fast path's bytes must equal the legacy simulator's.
import t from 'tap'
import { basicAuthorization } from '../v2-rezept-list/cases.ts'
import { startComparison, type ComparisonFixture } from '../v2-rezept-list/comparison-fixture.ts'
import { createRandomTenant, seededRandom } from '../v2-rezept-list/random-tenant.ts'

const SEED = Number(process.env.FASTPATH_RANDOM_SEED ?? 20261203)
let fixture: ComparisonFixture
let authorization: string

t.before(async () => {
  fixture = await startComparison({ prefix: 't_v1new_rand_', rows: 300, kleinRows: 300, maxPageSize: 40, environment: 'Test' })
  const tenant = await createRandomTenant({ arzswUrl: fixture.arzswUrl, database: 't_v1new_rand_apoti_zufall', login: 'arz-zufall', password: 'zufall-Geheim', seed: SEED, perType: 150 })
  authorization = basicAuthorization(tenant.login, tenant.password)
})
t.teardown(async () => {
  await fixture?.close()
})

t.test(`random v1 requests over random rows (seed ${SEED}) give the legacy's bytes`, async (t) => {
  const random = seededRandom(SEED + 1)
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!
  for (let i = 0; i < 100; i++) {
    const parts: string[] = []
    const type = pick([null, null, 'eMuster16', 'pRezept', 'eRezept', 'EREZEPT', 'P-Rezept', '', 'x'])
    if (type !== null) parts.push(`rezeptType=${type}`)
    if (random() < 0.8) parts.push(`page=${pick([-2, 0, 1, 1, 2, 3, 5, 20, 2147483647])}`)
    if (random() < 0.8) parts.push(`pageSize=${pick([-1, 0, 1, 3, 7, 40, 41, 100, 1000])}`)
    if (random() < 0.5) for (let j = parts.length - 1; j > 0; j--) { const k = Math.floor(random() * (j + 1)); [parts[j], parts[k]] = [parts[k]!, parts[j]!] }
    const rawUrl = pick(['/api/v1/Prescriptions/new', '/api/v1.0/prescriptions/new/']) + (parts.length ? '?' + parts.join('&') : '')
    const headers = { authorization }
    const legacy = await fixture.toSim('GET', rawUrl, headers)
    const outcome = await fixture.toFast('v1.prescriptions.new', 'GET', rawUrl, headers)
    if (outcome.kind !== 'answer') {
      t.fail(`${rawUrl}: deferred (${outcome.reason}) ${outcome.error?.message ?? ''}; legacy said ${legacy.status}`)
      continue
    }
    t.equal(outcome.status, legacy.status, `${rawUrl}: status`)
    t.equal(outcome.body.toString('utf8'), legacy.body.toString('utf8'), `${rawUrl}: same bytes`)
  }
})
