// A real Prometheus (Debian's binary, loopback, 1 s scrapes) scrapes the proxy's admin listener: the
// request histogram has series for the legacy and the fast path, the alert rules load, and every
// dashboard query is PromQL that Prometheus accepts.
import { readFile } from 'node:fs/promises'
import t from 'tap'
import { needsBinary, startPrometheus, type ThrowawayPrometheus } from './support/prometheus-tools.ts'
import { startSeededProxy } from './support/seeded-proxy.ts'
import { dashboardQueries } from './support/dashboard.ts'

const ALERTS = new URL('../../config/prometheus/alerts.yml', import.meta.url).pathname
const DASHBOARD = new URL('../../config/grafana/arzti-fastpath.json', import.meta.url).pathname

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const found = await probe()
    if (found !== undefined) return found
    if (Date.now() > until) throw new Error(`not within ${timeoutMs} ms: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
}

t.test('Prometheus scrapes the admin /metrics and finds legacy and fast series of the request histogram', needsBinary('prometheus'), async (t) => {
  const fixture = await startSeededProxy(t, { prefix: 't_metrics_prom_', sources: { redisUp: () => true, pools: () => [{ tenant: '127.0.0.1:5432/t_metrics_prom', total: 2, idle: 1, waiting: 0 }] } })
  t.equal((await fixture.get('/v2/rezept?pageSize=2')).status, 200, 'served by the legacy (flag off)')
  await fixture.setFlag('v2.rezept.list', 'on')
  t.equal((await fixture.get('/v2/rezept?pageSize=2')).status, 200, 'served by the fast path (flag on)')

  const prometheus: ThrowawayPrometheus = await startPrometheus({ target: new URL(fixture.proxy.adminUrl).host, ruleFiles: [ALERTS] })
  t.teardown(() => prometheus.stop())

  const query = 'sum by (served_by) (fastpath_request_duration_seconds_count{route="v2.rezept.list"})'
  const series = await eventually('both serving paths scraped', async () => {
    const result = await prometheus.query(query)
    const paths = result.map((r) => r.metric.served_by).sort()
    return paths.includes('fast') && paths.includes('legacy') ? result : undefined
  })
  t.same(series.map((r) => r.metric.served_by).sort(), ['fast', 'legacy'], `${query} has a series per serving path`)
  for (const r of series) t.equal(Number(r.value[1]), 1, `one ${r.metric.served_by} request`)

  const quantiles = await prometheus.query('histogram_quantile(0.99, sum by (le, served_by) (fastpath_request_duration_seconds_bucket{route="v2.rezept.list"}))')
  t.equal(quantiles.length, 2, 'a p99 per serving path from the buckets')
  for (const q of quantiles) t.ok(Number(q.value[1]) > 0 && Number(q.value[1]) <= 30, `p99 ${q.metric.served_by} = ${q.value[1]} s`)

  const up = await prometheus.query('up{job="arzti-fastpath"}')
  t.equal(up[0]?.value[1], '1', 'the target is up: the exposition parsed')
  t.same((await prometheus.query('fastpath_flag_mode{route="v2.rezept.list"} == 1')).map((r) => r.metric.mode), ['on'])
  t.equal((await prometheus.query('fastpath_pool_connections'))[0]?.value[1], '2', 'pool gauges from the source')

  const rules = (await prometheus.get('/api/v1/rules')) as { groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> }
  const loaded = rules.groups.flatMap((g) => g.rules)
  t.ok(loaded.length >= 9, `${loaded.length} alert rules loaded`)
  for (const rule of loaded) t.not(rule.health, 'err', `${rule.name} evaluates without error ${rule.lastError ?? ''}`)
  const firing = (await prometheus.query('ALERTS{alertstate="firing"}')).map((r) => r.metric.alertname)
  t.same(firing, [], 'a healthy proxy fires no alert')

  const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as unknown
  const queries = dashboardQueries(dashboard)
  t.ok(queries.length >= 25, `${queries.length} dashboard queries`)
  for (const expr of queries) {
    // Grafana's variables as Grafana would fill them for "All".
    const promql = expr.replaceAll('$__rate_interval', '1m').replaceAll('$route', '.*').replaceAll('$instance', '.*')
    await prometheus.query(promql).then(
      () => t.pass(`dashboard query runs: ${expr.slice(0, 80)}`),
      (error: Error) => t.fail(`dashboard query rejected: ${expr}: ${error.message}`),
    )
  }
})
