// The proxy's /metrics over real HTTP: requests served by the legacy and the fast path, and every event
// type on the bus, become the series the catalogue names, with bounded label values.
import t, { type Test } from 'tap'
import type { ProxyEvent } from '../../core/events.ts'
import { METRICS } from '../../proxy/metrics/catalogue.ts'
import { tenantLabel } from '../../proxy/metrics/tenant-label.ts'
import { ROUTE_IDS } from '../../routes/contract.ts'
import { find, parseExposition, valueOf, type Sample } from './support/exposition.ts'
import { GOOD_AUTH, startSeededProxy, USER_LOGIN } from './support/seeded-proxy.ts'

const TOKEN = 'metrics-admin-token'
const WRONG_AUTH = `Basic ${Buffer.from(`${USER_LOGIN}:not-the-password`).toString('base64')}`
const TENANT = 'db.example:5432/arz_tenant'

t.test('requests and events on the bus become series on the admin /metrics', async (t) => {
  const fixture = await startSeededProxy(t, { prefix: 't_metrics_rec_', adminToken: TOKEN })
  const { proxy } = fixture

  const legacy = await fixture.get('/v2/rezept?pageSize=2')
  t.equal(legacy.status, 200, 'flag off: the legacy answers')
  t.equal((await fixture.get('/nothing/here?user=someone')).status, 404)
  await fixture.setFlag('v2.rezept.list', 'on')
  const fast = await fixture.get('/v2/rezept?pageSize=2')
  t.equal(fast.status, 200, 'flag on: the fast path answers')
  t.equal((await fixture.get('/v2/rezept?pageSize=2', WRONG_AUTH)).status, 401, 'a wrong password defers to the legacy, which says 401')

  const synthetic: ProxyEvent[] = [
    { type: 'shadow.compared', routeId: 'v2.rezept.list', outcome: 'match', legacyMs: 50, fastMs: 5 },
    { type: 'shadow.compared', routeId: 'v2.rezept.list', outcome: 'mismatch', legacyMs: 10, fastMs: 20 },
    { type: 'shadow.compared', routeId: 'v2.rezept.pharmacy', outcome: 'skipped', legacyMs: 12, fastMs: 0 },
    { type: 'route.demoted', routeId: 'v2.rezept.pharmacy', reason: 'mismatch rate' },
    // On the route no request took, so the real fast path's own lookups cannot add to these.
    { type: 'cache.lookup', routeId: 'v2.rezept.pharmacy', outcome: 'hit-l1' },
    { type: 'cache.lookup', routeId: 'v2.rezept.pharmacy', outcome: 'hit-l1' },
    { type: 'cache.lookup', routeId: 'v2.rezept.pharmacy', outcome: 'miss' },
    { type: 'cache.invalidated', cause: 'write' },
    { type: 'cache.store-skipped', routeId: 'v2.rezept.pharmacy', reason: 'too-big' },
    { type: 'circuit.changed', tenant: TENANT, state: 'open' },
    { type: 'upstream.failed', kind: 'connect', status: 502 },
    { type: 'auth.checked', outcome: 'unavailable' },
  ]
  for (const event of synthetic) proxy.events.emit(event)

  const scraped = await fixture.scrape()
  t.equal(scraped.status, 200, '/metrics answers without the admin token, as before')
  t.equal(scraped.contentType, 'text/plain; version=0.0.4; charset=utf-8')
  const samples = parseExposition(scraped.text)
  const count = (labels: Record<string, string>) => valueOf(samples, `${METRICS.requestDuration.name}_count`, labels)

  t.equal(count({ route: 'v2.rezept.list', served_by: 'legacy', status_class: '2xx' }), 1, 'the legacy answer')
  t.equal(count({ route: 'v2.rezept.list', served_by: 'fast', status_class: '2xx' }), 1, 'the fast answer')
  t.equal(count({ route: 'v2.rezept.list', served_by: 'legacy', status_class: '4xx' }), 1, 'the deferred request answered by the legacy')
  t.equal(count({ route: 'other', served_by: 'legacy', status_class: '4xx' }), 1, 'a route without a fast path is "other", never its path')
  const buckets = find(samples, `${METRICS.requestDuration.name}_bucket`, { route: 'v2.rezept.list', served_by: 'fast' }).map((s) => s.labels.le)
  t.same(buckets, ['0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.075', '0.1', '0.15', '0.25', '0.5', '1', '2.5', '5', '10', '30', '+Inf'], 'buckets from 1 ms to 30 s')

  t.equal(valueOf(samples, METRICS.fastDeferrals.name, { route: 'v2.rezept.list', reason: 'auth-wrong-password' }), 1, 'the deferral is counted once, by reason')
  t.equal(valueOf(samples, METRICS.fastDeferrals.name, { route: 'v2.rezept.pharmacy', reason: 'pool-busy' }), 0, 'fallback reasons exist at 0 for the alert ratio')
  t.equal(valueOf(samples, METRICS.authChecks.name, { outcome: 'verified' }), 1, 'one BCrypt/plain verification for the good login')
  t.ok((valueOf(samples, METRICS.authChecks.name, { outcome: 'rejected' }) ?? 0) >= 1, 'the wrong password is rejected')
  t.equal(valueOf(samples, METRICS.authChecks.name, { outcome: 'unavailable' }), 1)
  const queries = find(samples, `${METRICS.dbQueryDuration.name}_count`, { result: 'ok' })
  t.ok(queries.length > 0 && queries.every((q) => q.value >= 1), `database statements timed by name (${queries.map((q) => q.labels.query).join(', ')})`)

  t.equal(valueOf(samples, METRICS.shadowComparisons.name, { route: 'v2.rezept.list', outcome: 'match' }), 1)
  t.equal(valueOf(samples, METRICS.shadowComparisons.name, { route: 'v2.rezept.list', outcome: 'mismatch' }), 1)
  t.equal(valueOf(samples, METRICS.shadowComparisons.name, { route: 'v2.rezept.list', outcome: 'race' }), 0, 'outcomes exist at 0 so the first mismatch is an increase')
  t.equal(valueOf(samples, METRICS.shadowComparisons.name, { route: 'v2.rezept.pharmacy', outcome: 'skipped' }), 1)
  t.equal(valueOf(samples, `${METRICS.shadowSpeedup.name}_count`, { route: 'v2.rezept.list' }), 2, 'speedup of the paired comparisons')
  t.equal(valueOf(samples, `${METRICS.shadowSpeedup.name}_sum`, { route: 'v2.rezept.list' }), 10.5, '50/5 + 10/20')
  t.equal(valueOf(samples, `${METRICS.shadowSpeedup.name}_bucket`, { route: 'v2.rezept.list', le: '1' }), 1, 'the slower fast answer is below 1')
  t.equal(valueOf(samples, `${METRICS.shadowSpeedup.name}_count`, { route: 'v2.rezept.pharmacy' }), undefined, 'a skipped comparison has no speedup')
  t.equal(valueOf(samples, METRICS.routeDemotions.name, { route: 'v2.rezept.pharmacy' }), 1)
  t.equal(valueOf(samples, METRICS.routeDemotions.name, { route: 'v2.rezept.list' }), 0)
  t.equal(valueOf(samples, METRICS.flagChanges.name, { route: 'v2.rezept.list', source: 'admin' }), 1)
  t.equal(valueOf(samples, METRICS.cacheLookups.name, { route: 'v2.rezept.pharmacy', outcome: 'hit-l1' }), 2)
  t.equal(valueOf(samples, METRICS.cacheLookups.name, { route: 'v2.rezept.pharmacy', outcome: 'miss' }), 1)
  t.ok((valueOf(samples, METRICS.cacheInvalidations.name, { cause: 'write' }) ?? 0) >= 1)
  t.equal(valueOf(samples, METRICS.cacheStoreSkips.name, { route: 'v2.rezept.pharmacy', reason: 'too-big' }), 1)
  t.equal(valueOf(samples, METRICS.upstreamFailures.name, { kind: 'connect' }), 1)
  t.equal(valueOf(samples, METRICS.upstreamFailures.name, { kind: 'reset' }), 0)
  t.equal(valueOf(samples, METRICS.circuitState.name, { tenant: tenantLabel(TENANT) }), 2, 'open is 2')

  t.equal(valueOf(samples, METRICS.flagMode.name, { route: 'v2.rezept.list', mode: 'on' }), 1)
  t.equal(valueOf(samples, METRICS.flagMode.name, { route: 'v2.rezept.list', mode: 'off' }), 0)
  t.equal(valueOf(samples, METRICS.flagMode.name, { route: 'v2.rezept.pharmacy', mode: 'off' }), 1)
  t.equal(find(samples, METRICS.flagMode.name).length, ROUTE_IDS.length * 4, 'one series per route and mode')
  t.equal(valueOf(samples, METRICS.requestsInFlight.name), 0, 'nothing in flight while the admin listener is scraped')
  t.equal(valueOf(samples, METRICS.shadowRuns.name, { outcome: 'shed' }), 0, 'shadow runs from the shadow runner')
  t.equal(find(samples, METRICS.redisUp.name).length, 0, 'no Redis source: no fastpath_redis_up rather than a false 0')
  t.equal(find(samples, METRICS.poolConnections.name).length, 0, 'no pool source: no pool series')

  assertBoundedLabels(t, samples)

  proxy.events.emit({ type: 'circuit.changed', tenant: TENANT, state: 'closed' })
  const after = parseExposition((await fixture.scrape()).text)
  t.equal(valueOf(after, METRICS.circuitState.name, { tenant: tenantLabel(TENANT) }), 0, 'a closed circuit stays listed at 0')
})

function assertBoundedLabels(t: Test, samples: readonly Sample[]): void {
  const routes = new Set(samples.flatMap((s) => (s.labels.route === undefined ? [] : [s.labels.route])))
  t.same([...routes].sort(), ['other', ...ROUTE_IDS].sort(), 'route labels are route ids or "other"')
  const values = samples.flatMap((s) => Object.values(s.labels))
  t.notOk(values.some((v) => v.includes(USER_LOGIN)), 'no user login in any label')
  t.notOk(values.some((v) => v.includes('?') || v.startsWith('/')), 'no raw path or query in any label')
  t.notOk(values.some((v) => v.includes(GOOD_AUTH.slice(6))), 'no credentials in any label')
  for (const sample of samples) {
    if (!sample.name.startsWith('fastpath_')) t.fail(`${sample.name} lacks the fastpath_ prefix`)
  }
}
