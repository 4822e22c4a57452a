// The contract's signal: a caller that went away stops the fast path's work at the next stage — no
// authentication, no pool connection, no further statement — and its 'aborted' outcome is no failure.
import t from 'tap'
import { EventBus, type ProxyEvent } from '../../../core/events.ts'
import { createRezeptFastPaths, fastPathSettings, type RezeptFastPaths } from '../../../routes/v2-rezept-list/index.ts'
import type { FastPathOutcome } from '../../../routes/contract.ts'
import { METRICS } from '../../../proxy/metrics/catalogue.ts'
import { startProxyMetrics } from '../../../proxy/metrics/proxy-metrics.ts'
import { FlagStore } from '../../../routes/flags/flag-store.ts'
import { find, parseExposition, valueOf } from '../../metrics/support/exposition.ts'
import { basicAuthorization } from './cases.ts'
import { startComparison, type ComparisonFixture } from './comparison-fixture.ts'

const KLEIN = { authorization: basicAuthorization('arz-klein', 'klein-Geheim2') }
const URL_ = '/v2/rezept?pageSize=3'
let fixture: ComparisonFixture
let fast: RezeptFastPaths
const bus = new EventBus()
let seen: ProxyEvent[] = []
let onEvent: ((event: ProxyEvent) => void) | undefined
bus.on((event) => {
  seen.push(event)
  onEvent?.(event)
})

t.before(async () => {
  fixture = await startComparison({ prefix: 't_fast_abort_', rows: 300, kleinRows: 300, maxPageSize: 500, environment: 'Test' })
  // The count cache off: every answer runs its three count statements after the three pages.
  fast = await createRezeptFastPaths(fastPathSettings({
    arzswUrl: fixture.arzswUrl, maxPageSize: 500, environment: 'Test', countCache: false,
    cache: { routes: { 'v2.rezept.list': 'off', 'v2.rezept.pharmacy': 'off' } },
  }), { events: bus })
})
t.teardown(async () => {
  await fast?.close()
  await fixture?.close()
})

/** One request's outcome and the events it caused; `during` sees each event as it is emitted. */
async function request(signal: AbortSignal, during?: (event: ProxyEvent) => void): Promise<{ outcome: FastPathOutcome; events: ProxyEvent[] }> {
  seen = []
  onEvent = during
  try {
    const outcome = await fast.paths[0]!.handle({ routeId: 'v2.rezept.list', method: 'GET', rawUrl: URL_, headers: KLEIN }, signal)
    return { outcome, events: seen }
  } finally {
    onEvent = undefined
  }
}

const queries = (events: ProxyEvent[]) => events.filter((e): e is Extract<ProxyEvent, { type: 'db.query' }> => e.type === 'db.query')

t.test('a request whose caller is gone before it starts runs no authentication and no tenant statement', async (t) => {
  const { outcome, events } = await request(AbortSignal.abort())
  t.match(outcome, { kind: 'defer', reason: 'aborted' })
  t.same(queries(events), [], 'no statement')
  t.same(events.filter((e) => e.type === 'auth.checked'), [], 'no credential check')
})

t.test('a caller gone during authentication costs no tenant statement', async (t) => {
  const controller = new AbortController()
  const pending = request(controller.signal)
  controller.abort() // while the credential check is under way
  const { outcome, events } = await pending
  t.match(outcome, { kind: 'defer', reason: 'aborted' })
  t.same(queries(events), [], 'no statement')
})

t.test('a caller gone while the pages run: no count statement follows', async (t) => {
  const controller = new AbortController()
  const { outcome, events } = await request(controller.signal, (event) => {
    if (event.type === 'db.query' && event.name.includes('_page_')) controller.abort()
  })
  t.match(outcome, { kind: 'defer', reason: 'aborted' })
  const names = queries(events).map((e) => e.name)
  t.ok(names.some((name) => name.includes('_page_')), `the pages ran (${names.join(', ')})`)
  t.notOk(names.some((name) => name.includes('_count_')), 'no count after the abort')
  t.ok(queries(events).every((e) => e.ok), 'nothing recorded as a failed statement')
})

t.test('aborted requests are no failures: past the breaker\'s threshold the tenant is still answered fast', async (t) => {
  for (let i = 0; i < 8; i++) {
    const controller = new AbortController()
    const { outcome } = await request(controller.signal, (event) => {
      if (event.type === 'db.query' && event.name.includes('_page_')) controller.abort()
    })
    t.match(outcome, { kind: 'defer', reason: 'aborted' })
  }
  const { outcome, events } = await request(new AbortController().signal)
  t.equal(outcome.kind, 'answer', 'answered: the circuit stayed closed')
  t.equal(queries(events).filter((e) => e.name.includes('_count_')).length, 3, 'pages and counts ran')
})

t.test('an aborted deferral is not counted in fastpath_fast_deferrals_total; a db-error is', async (t) => {
  const events = new EventBus()
  const metrics = startProxyMetrics({ events, flags: new FlagStore({}), sources: {} })
  t.teardown(() => metrics.shutdown())
  events.emit({ type: 'fast.deferred', routeId: 'v2.rezept.list', reason: 'aborted' })
  events.emit({ type: 'fast.deferred', routeId: 'v2.rezept.list', reason: 'db-error', error: new Error('x') })
  const samples = parseExposition(await metrics.text())
  t.equal(find(samples, METRICS.fastDeferrals.name).filter((s) => s.labels.reason === 'aborted').length, 0, 'no aborted series')
  t.equal(valueOf(samples, METRICS.fastDeferrals.name, { route: 'v2.rezept.list', reason: 'db-error' }), 1)
})
