// v1 GET new through the response cache (a cache mode for the route id): a repeat is a hit with the
// legacy's bytes, the key folds rezeptType's spelling but keeps page and pageSize apart, and a write
// the proxy passed to the legacy voids the tenant's entries as it does for the v2 routes.
import t from 'tap'
import { authorizationFor, CASE_SETTINGS, type FastPathCase } from '../v2-rezept-list/cases.ts'
import { startComparison, type ComparisonFixture } from '../v2-rezept-list/comparison-fixture.ts'

let fixture: ComparisonFixture
t.before(async () => {
  fixture = await startComparison({
    prefix: 't_v1new_cache_', ...CASE_SETTINGS,
    fastPath: { cache: { routes: { 'v2.rezept.list': 'off', 'v2.rezept.pharmacy': 'off', 'v1.prescriptions.new': 'ttl' }, maxStaleMs: 60_000 } },
  })
})
t.teardown(async () => {
  await fixture?.close()
})

const klein: FastPathCase = { name: 'k', routeId: 'v1.prescriptions.new', method: 'GET', rawUrl: '', headers: {}, user: 'klein', expect: 'same' }
const headers = () => authorizationFor(klein)

async function both(rawUrl: string): Promise<{ servedBy: string; same: boolean }> {
  const outcome = await fixture.toFast('v1.prescriptions.new', 'GET', rawUrl, headers())
  const legacy = await fixture.toSim('GET', rawUrl, headers())
  if (outcome.kind !== 'answer') return { servedBy: `defer:${outcome.reason}`, same: false }
  return { servedBy: outcome.servedBy, same: outcome.body.equals(legacy.body) }
}

t.test('a repeat is served from the cache with the legacy\'s bytes', async (t) => {
  t.same(await both('/api/v1/Prescriptions/new?pageSize=5'), { servedBy: 'fast', same: true }, 'first: loaded')
  t.same(await both('/api/v1/Prescriptions/new?pageSize=5'), { servedBy: 'cache', same: true }, 'second: a hit')
  t.same(await both('/API/V1.0/prescriptions/new/?pageSize=5'), { servedBy: 'cache', same: true }, 'another path form: the same entry')
  t.same(await both('/api/v1/Prescriptions/new?pageSize=5&page=2'), { servedBy: 'fast', same: true }, 'another page: another entry')
  t.same(await both('/api/v1/Prescriptions/new?pageSize=5&page=0'), { servedBy: 'fast', same: true }, 'page 0 is not page 1')
  t.same(await both('/api/v1/Prescriptions/new?pageSize=6'), { servedBy: 'fast', same: true }, 'another pageSize: another entry')
  t.same(await both('/api/v1/Prescriptions/new?rezeptType=EREZEPT&pageSize=5'), { servedBy: 'fast', same: true }, 'one type: another entry')
  t.same(await both('/api/v1/Prescriptions/new?rezeptType=eRezept&pageSize=5'), { servedBy: 'cache', same: true }, 'its other spelling: the same entry')
})

t.test('a write passed to the legacy voids the entries', async (t) => {
  const rawUrl = '/api/v1/Prescriptions/new?rezeptType=eMuster16&pageSize=3'
  t.same(await both(rawUrl), { servedBy: 'fast', same: true })
  t.same(await both(rawUrl), { servedBy: 'cache', same: true })
  const first = JSON.parse((await fixture.toSim('GET', rawUrl, headers())).body.toString('utf8')).prescriptions[0]
  const written = await fetch(`http://127.0.0.1:${fixture.sim.port}/api/v1/Prescriptions/mark-as-read`, {
    method: 'POST', headers: { ...headers(), 'content-type': 'application/json' },
    body: JSON.stringify({ prescriptions: [{ type: 'eMuster16', rezeptUuid: first.rezeptUuid }] }),
  })
  t.equal(written.status, 200, 'the legacy marked one as read')
  await fixture.fast.writeAnswered(headers().authorization, 200)
  const after = await both(rawUrl)
  t.same(after, { servedBy: 'fast', same: true }, 'reloaded after the write, the legacy\'s bytes again')
  const items = JSON.parse((await fixture.toSim('GET', rawUrl, headers())).body.toString('utf8')).prescriptions
  t.notOk(items.some((i: { rezeptUuid: string }) => i.rezeptUuid === first.rezeptUuid), 'the item read is gone')
})
