// The small pieces of the metrics: bounded label sets, status classes, circuit states, scrape-time
// sources (merged pools, a broken source), and the pool registry's stats against a real PostgreSQL.
import t from 'tap'
import { EventBus } from '../../core/events.ts'
import { METRICS } from '../../proxy/metrics/catalogue.ts'
import { tenantLabel } from '../../proxy/metrics/tenant-label.ts'
import { CircuitStates } from '../../proxy/metrics/circuit-states.ts'
import { LabelSets, OVERFLOW_VALUE, statusClass } from '../../proxy/metrics/label-sets.ts'
import { startProxyMetrics } from '../../proxy/metrics/proxy-metrics.ts'
import { parseTenantDatabase } from '../../tenants/npgsql-connection-string.ts'
import { TenantPools } from '../../tenants/tenant-pools.ts'
import { FlagStore } from '../../routes/flags/flag-store.ts'
import { ROUTE_IDS } from '../../core/route-ids.ts'
import { npgsqlConnectionString } from '../../dev/services.ts'
import { find, parseExposition, valueOf } from './support/exposition.ts'

t.test('a label set is made once per combination and reused', async (t) => {
  const sets = new LabelSets(['route', 'served_by', 'status_class'])
  const first = sets.get('v2.rezept.list', 'fast', '2xx')
  t.same(first, { route: 'v2.rezept.list', served_by: 'fast', status_class: '2xx' })
  t.equal(sets.get('v2.rezept.list', 'fast', '2xx'), first, 'the same object the second time')
  t.not(sets.get('v2.rezept.list', 'fast', '5xx'), first)
  t.ok(Object.isFrozen(first))
  t.same(new LabelSets(['kind']).get('connect'), { kind: 'connect' }, 'one label')
  t.throws(() => new LabelSets([]), /one to three/)
  t.throws(() => new LabelSets(['a', 'b', 'c', 'd']), /one to three/)
})

t.test('beyond its bound a label set answers the shared "other" set instead of growing', async (t) => {
  const sets = new LabelSets(['query', 'result'], 2)
  sets.get('a', 'ok')
  sets.get('b', 'ok')
  t.same(sets.get('c', 'ok'), { query: OVERFLOW_VALUE, result: OVERFLOW_VALUE })
  t.same(sets.get('a', 'error'), { query: OVERFLOW_VALUE, result: OVERFLOW_VALUE }, 'a new second value overflows too')
  t.equal(sets.size, 2)
  t.same(sets.get('a', 'ok'), { query: 'a', result: 'ok' }, 'known combinations keep working')
})

t.test('status classes: 2xx..5xx, 499 on its own, anything odd is "other"', async (t) => {
  t.same([200, 204, 301, 401, 404, 499, 500, 503, 101].map(statusClass), ['2xx', '2xx', '3xx', '4xx', '4xx', '499', '5xx', '5xx', '1xx'])
  t.same([0, 42, 600, 999].map(statusClass), ['other', 'other', 'other', 'other'])
})

t.test('circuit states: bounded, closed circuits make room first', async (t) => {
  const states = new CircuitStates(2)
  states.set('a', 'open')
  states.set('b', 'closed')
  states.set('c', 'half-open')
  t.same([...states.entries()], [['a', 2], ['c', 1]], 'the closed one made room')
  states.set('d', 'open')
  t.same([...states.entries()], [['a', 2], ['c', 1]], 'all open at the bound: the newest is not shown')
  states.set('a', 'closed')
  t.same([...states.entries()], [['a', 0], ['c', 1]], 'a known tenant is updated')
})

t.test('pools of one database under two roles are one series; a broken source costs only its own metric', async (t) => {
  const flags = new FlagStore({ 'v2.rezept.pharmacy': { mode: 'canary', percent: 5 } })
  const metrics = startProxyMetrics({
    events: new EventBus(),
    flags,
    sources: {
      pools: () => [
        { tenant: 'h:5432/a', total: 2, idle: 1, waiting: 0 },
        { tenant: 'h:5432/a', total: 3, idle: 0, waiting: 4 },
        { tenant: 'h:5432/b', total: 1, idle: 1, waiting: 0 },
      ],
      redisUp: () => false,
      inFlight: () => {
        throw new Error('broken source')
      },
    },
  })
  t.teardown(() => metrics.shutdown())
  const samples = parseExposition(await metrics.text())
  t.equal(valueOf(samples, METRICS.poolConnections.name, { tenant: tenantLabel('h:5432/a') }), 5)
  t.equal(valueOf(samples, METRICS.poolIdleConnections.name, { tenant: tenantLabel('h:5432/a') }), 1)
  t.equal(valueOf(samples, METRICS.poolWaitingRequests.name, { tenant: tenantLabel('h:5432/a') }), 4)
  t.equal(valueOf(samples, METRICS.poolConnections.name, { tenant: tenantLabel('h:5432/b') }), 1)
  t.equal(valueOf(samples, METRICS.redisUp.name), 0, 'Redis down is 0')
  t.equal(find(samples, METRICS.requestsInFlight.name).length, 0, 'the broken source is left out')
  t.equal(valueOf(samples, METRICS.flagMode.name, { route: 'v2.rezept.pharmacy', mode: 'canary' }), 1, 'canary is a mode')

  const broken = startProxyMetrics({ events: new EventBus(), flags, sources: { pools: () => { throw new Error('registry closed') } } })
  t.teardown(() => broken.shutdown())
  const left = parseExposition(await broken.text())
  t.equal(find(left, METRICS.poolConnections.name).length, 0, 'no pool series from a throwing registry')
  t.equal(find(left, METRICS.flagMode.name).length, ROUTE_IDS.length * 4, 'the other metrics are still there')
})

t.test('a pool that closes disappears from the scrape instead of staying at its last value', async (t) => {
  let pools = [{ tenant: 'h:5432/a', total: 2, idle: 0, waiting: 3 }]
  const metrics = startProxyMetrics({ events: new EventBus(), flags: new FlagStore({}), sources: { pools: () => pools } })
  t.teardown(() => metrics.shutdown())
  t.equal(valueOf(parseExposition(await metrics.text()), METRICS.poolWaitingRequests.name, { tenant: tenantLabel('h:5432/a') }), 3)
  pools = []
  t.equal(find(parseExposition(await metrics.text()), METRICS.poolWaitingRequests.name).length, 0)
})

t.test('TenantPools.stats() reports open pools by host:port/database, never with the password', async (t) => {
  const pools = new TenantPools({ maxSize: 1, maxPools: 4, idleTimeoutMs: 10_000, connectTimeoutMs: 2000, statementTimeoutMs: 2000, sessionOptions: true })
  t.teardown(() => pools.close())
  const database = parseTenantDatabase(npgsqlConnectionString('postgres'))
  t.same(pools.stats(), [], 'no pool yet')
  const pool = pools.poolFor(database)
  const held = await pool.connect()
  const waiting = pool.connect()
  await new Promise((resolve) => setTimeout(resolve, 20))
  const [stats] = pools.stats()
  t.same(stats, { tenant: database.label, total: 1, idle: 0, waiting: 1 }, 'one connection out, one request waiting')
  t.match(stats?.tenant, /^[^:@;]+:\d+\/postgres$/, 'host:port/database only: no user, no password')
  held.release()
  ;(await waiting).release()
  t.same(pools.stats()[0], { tenant: database.label, total: 1, idle: 1, waiting: 0 })
})
