// The dashboard, the alert rules and docs/metrics.md name only metrics the proxy exports, and every
// exported metric has a panel and a line in the docs: the four cannot drift apart.
import { readFile } from 'node:fs/promises'
import t from 'tap'
import type { ProxyEvent } from '../../core/events.ts'
import { EventBus } from '../../core/events.ts'
import { exposedSeriesNames, METRICS } from '../../proxy/metrics/catalogue.ts'
import { startProxyMetrics } from '../../proxy/metrics/proxy-metrics.ts'
import { FlagStore } from '../../routes/flags/flag-store.ts'
import { dashboardQueries, metricNamesIn } from './support/dashboard.ts'
import { parseExposition } from './support/exposition.ts'

const root = new URL('../../', import.meta.url).pathname
const read = (path: string) => readFile(`${root}${path}`, 'utf8')

/** One event of every type, and every source: the exposition then holds every metric of the catalogue. */
const ONE_OF_EACH: readonly ProxyEvent[] = [
  { type: 'request.served', routeId: 'v2.rezept.list', servedBy: 'fast', status: 200, durationMs: 2 },
  { type: 'fast.deferred', routeId: 'v2.rezept.list', reason: 'query' },
  { type: 'upstream.failed', kind: 'reset', status: 502 },
  { type: 'flag.changed', routeId: 'v2.rezept.list', from: 'off', to: 'on', by: 'test', source: 'admin' },
  { type: 'auth.checked', outcome: 'cached' },
  { type: 'circuit.changed', tenant: 'h:5432/d', state: 'half-open' },
  { type: 'db.query', name: 'count', durationMs: 1, ok: false },
  { type: 'cache.lookup', routeId: 'v2.rezept.list', outcome: 'hit-l2' },
  { type: 'cache.invalidated', cause: 'cdc' },
  { type: 'cache.store-skipped', routeId: 'v2.rezept.list', reason: 'shape' },
  { type: 'shadow.compared', routeId: 'v2.rezept.list', outcome: 'race', legacyMs: 9, fastMs: 3 },
  { type: 'route.demoted', routeId: 'v2.rezept.list', reason: 'p99' },
]

async function exportedNames(): Promise<Set<string>> {
  const events = new EventBus()
  const metrics = startProxyMetrics({
    events,
    flags: new FlagStore({}),
    sources: {
      inFlight: () => 1,
      redisUp: () => false,
      readiness: () => 'degraded',
      pools: () => [{ tenant: 'h:5432/d', total: 1, idle: 1, waiting: 0 }],
      shadowRuns: () => ({ started: 1, shed: 0, answered: 1, deferred: 0, failed: 0 }),
      xmlMemo: () => ({ hits: 3, misses: 1, bytes: 1024 }),
      responseCache: () => ({ redisErrors: 2, loads: 5 }),
    },
  })
  for (const event of ONE_OF_EACH) events.emit(event)
  const text = await metrics.text()
  await metrics.shutdown()
  return new Set(parseExposition(text).map((s) => s.name))
}

t.test('every metric of the catalogue is exported once each event type and source has been seen', async (t) => {
  const exported = await exportedNames()
  for (const metric of Object.values(METRICS)) {
    const series = metric.kind === 'histogram' ? `${metric.name}_count` : metric.name
    t.ok(exported.has(series), `${series} is exported`)
  }
  for (const name of exported) t.ok(exposedSeriesNames().has(name), `${name} is in the catalogue`)
})

t.test('the dashboard parses and queries only exported metrics, and has a panel for each', async (t) => {
  const dashboard = JSON.parse(await read('config/grafana/arzti-fastpath.json')) as { title: string; uid: string; panels: unknown[] }
  t.ok(dashboard.uid && dashboard.title && dashboard.panels.length > 0, 'an importable dashboard: uid, title, panels')
  const queried = metricNamesIn(dashboardQueries(dashboard).join('\n'))
  const exposed = exposedSeriesNames()
  for (const name of queried) t.ok(exposed.has(name), `the dashboard's ${name} is exported`)
  for (const metric of Object.values(METRICS)) {
    const used = [...queried].some((name) => name === metric.name || name.startsWith(`${metric.name}_`) && exposed.has(name))
    t.ok(used, `${metric.name} has a panel`)
  }
})

t.test('the alert rules name only exported metrics', async (t) => {
  const names = metricNamesIn(await read('config/prometheus/alerts.yml'))
  t.ok(names.size >= 8)
  for (const name of names) t.ok(exposedSeriesNames().has(name), `alerts.yml's ${name} is exported`)
})

t.test('docs/metrics.md describes every metric and every alert, and names nothing else', async (t) => {
  const docs = await read('docs/metrics.md')
  for (const metric of Object.values(METRICS)) t.match(docs, `\`${metric.name}\``, `${metric.name} is documented`)
  for (const name of metricNamesIn(docs)) t.ok(exposedSeriesNames().has(name), `the docs' ${name} is exported`)
  const alerts = [...(await read('config/prometheus/alerts.yml')).matchAll(/- alert: (\S+)/g)].map((m) => m[1]!)
  for (const alert of alerts) t.match(docs, new RegExp(`^### ${alert}$`, 'm'), `${alert} is explained`)
})
