// The alert rules are valid and their unit tests pass under promtool; every alert has a firing test,
// and the scrape of a running proxy passes promtool's own exposition checks.
import { readFile } from 'node:fs/promises'
import t from 'tap'
import { EventBus } from '../../core/events.ts'
import { startProxyMetrics } from '../../proxy/metrics/proxy-metrics.ts'
import { FlagStore } from '../../routes/flags/flag-store.ts'
import { findBinary, needsBinary, run } from './support/prometheus-tools.ts'

const RULES_DIR = new URL('../../config/prometheus/', import.meta.url).pathname

t.test('promtool check rules accepts alerts.yml', needsBinary('promtool'), async (t) => {
  const result = await run(findBinary('promtool')!, ['check', 'rules', 'alerts.yml'], { cwd: RULES_DIR })
  t.equal(result.code, 0, result.output)
  t.match(result.output, /SUCCESS: \d+ rules found/)
})

t.test('promtool test rules passes alerts.test.yml', needsBinary('promtool'), async (t) => {
  const result = await run(findBinary('promtool')!, ['test', 'rules', 'alerts.test.yml'], { cwd: RULES_DIR })
  t.equal(result.code, 0, result.output)
  t.match(result.output, /SUCCESS/)
})

t.test('every alert in alerts.yml has a test where it fires', async (t) => {
  const rules = await readFile(`${RULES_DIR}alerts.yml`, 'utf8')
  const tests = await readFile(`${RULES_DIR}alerts.test.yml`, 'utf8')
  const alerts = [...rules.matchAll(/^\s+- alert: (\S+)$/gm)].map((m) => m[1]!)
  t.ok(alerts.length >= 9, `${alerts.length} alerts`)
  for (const alert of alerts) {
    const firing = new RegExp(`alertname: ${alert}\\n\\s+exp_alerts:\\n\\s+- exp_labels`).test(tests)
    t.ok(firing, `${alert} has a firing test`)
    t.match(tests, new RegExp(`alertname: ${alert}, exp_alerts: \\[\\] \\}`), `${alert} is quiet in the healthy case`)
  }
})

t.test('promtool check metrics accepts the exposition (types, names, histogram series)', needsBinary('promtool'), async (t) => {
  const events = new EventBus()
  const metrics = startProxyMetrics({ events, flags: new FlagStore({}), sources: { inFlight: () => 0, redisUp: () => true, pools: () => [] } })
  t.teardown(() => metrics.shutdown())
  events.emit({ type: 'request.served', routeId: 'v2.rezept.list', servedBy: 'fast', status: 200, durationMs: 3 })
  events.emit({ type: 'shadow.compared', routeId: 'v2.rezept.list', outcome: 'match', legacyMs: 40, fastMs: 4 })
  events.emit({ type: 'db.query', name: 'new-prescriptions-page', durationMs: 1.5, ok: true })
  const text = await metrics.text()
  const result = await run(findBinary('promtool')!, ['check', 'metrics'], { input: text })
  t.equal(result.code, 0, `promtool check metrics: ${result.output || 'no findings'}`)
})
