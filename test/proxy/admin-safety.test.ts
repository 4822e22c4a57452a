// Issue 16 points 6 and 10: reloading a config without the admin token opened the admin API on the
// non-loopback address it was bound to with the token; /metrics needed no token when one was set,
// and showed tenant databases as host:port/database.
import t from 'tap'
import { request } from 'undici'
import { tenantLabel } from '../../proxy/metrics/tenant-label.ts'
import { startEchoUpstream } from './support/echo-upstream.ts'
import { proxyFor } from './support/proxy-under-test.ts'

const TOKEN = 'admin-safety-token'
const BEARER = { authorization: `Bearer ${TOKEN}` }

async function adminCall(adminUrl: string, method: 'GET' | 'POST', path: string, headers: Record<string, string> = {}) {
  const answer = await request(`${adminUrl}${path}`, { method, headers })
  const text = await answer.body.text()
  return { status: answer.statusCode, text }
}

t.test('a reload that would leave a non-loopback admin listener without a token is refused: 409, config kept, reported', async (t) => {
  const upstream = await startEchoUpstream()
  t.teardown(() => upstream.close())
  const overrides: Record<string, unknown> = { legacyUrl: upstream.url, 'admin.host': '0.0.0.0', 'admin.token': TOKEN }
  const proxy = await proxyFor(t, overrides)
  const reloads: { ok: boolean; error?: string }[] = []
  proxy.events.on((e) => void (e.type === 'config.reloaded' && reloads.push({ ok: e.ok, ...(e.error ? { error: e.error } : {}) })))
  delete overrides['admin.token']
  overrides.serverTiming = false

  const refused = await adminCall(proxy.adminUrl, 'POST', '/reload', BEARER)
  t.equal(refused.status, 409)
  t.match(JSON.parse(refused.text), { reloaded: false, code: 'ADMIN_TOKEN_REQUIRED' })
  t.equal(proxy.config().admin.token, TOKEN, 'the token stays')
  t.equal(proxy.config().serverTiming, true, 'and the rest of the running config')
  t.equal((await adminCall(proxy.adminUrl, 'GET', '/flags')).status, 401, 'the admin API still asks for the token')
  t.match(reloads, [{ ok: false, error: /admin/ }], 'the refusal is reported (log and audit)')

  overrides['admin.token'] = TOKEN
  const accepted = await adminCall(proxy.adminUrl, 'POST', '/reload', BEARER)
  t.equal(accepted.status, 200, 'with the token back the reload goes through')
  t.equal(proxy.config().serverTiming, false)
})

t.test('on loopback a reload may drop the token, as a start without one may', async (t) => {
  const upstream = await startEchoUpstream()
  t.teardown(() => upstream.close())
  const overrides: Record<string, unknown> = { legacyUrl: upstream.url, 'admin.host': '127.0.0.1', 'admin.token': TOKEN }
  const proxy = await proxyFor(t, overrides)
  delete overrides['admin.token']
  t.equal((await adminCall(proxy.adminUrl, 'POST', '/reload', BEARER)).status, 200)
  t.equal(proxy.config().admin.token, undefined)
})

t.test('/metrics needs the token when one is set; admin.metricsOpen leaves it open; /healthz and /readyz stay open', async (t) => {
  const upstream = await startEchoUpstream()
  t.teardown(() => upstream.close())
  const overrides: Record<string, unknown> = { legacyUrl: upstream.url, 'admin.token': TOKEN }
  const proxy = await proxyFor(t, overrides)
  t.equal((await adminCall(proxy.adminUrl, 'GET', '/metrics')).status, 401, 'no token: 401')
  t.equal((await adminCall(proxy.adminUrl, 'GET', '/metrics', BEARER)).status, 200, 'with the token: 200')
  t.equal((await adminCall(proxy.adminUrl, 'GET', '/healthz')).status, 200)
  t.equal((await adminCall(proxy.adminUrl, 'GET', '/readyz')).status, 200)
  overrides['admin.metricsOpen'] = true
  await adminCall(proxy.adminUrl, 'POST', '/reload', BEARER)
  t.equal((await adminCall(proxy.adminUrl, 'GET', '/metrics')).status, 200, 'metricsOpen: a scraper without the token is served')
  t.equal((await adminCall(proxy.adminUrl, 'GET', '/flags')).status, 401, 'nothing else opens with it')
})

t.test('/metrics shows tenant databases hashed, never as host:port/database', async (t) => {
  const upstream = await startEchoUpstream()
  t.teardown(() => upstream.close())
  const database = 'db.internal.example:5432/arz_klein'
  const proxy = await proxyFor(t, { legacyUrl: upstream.url }, { metricSources: { pools: () => [{ tenant: database, total: 2, idle: 1, waiting: 0 }] } })
  proxy.events.emit({ type: 'circuit.changed', tenant: database, state: 'open' })
  const text = (await adminCall(proxy.adminUrl, 'GET', '/metrics')).text
  t.notOk(text.includes('db.internal'), 'the database host is not shown')
  t.notOk(text.includes('arz_klein'), 'nor its name')
  t.match(text, `fastpath_pool_connections{tenant="${tenantLabel(database)}"} 2`)
  t.match(text, `fastpath_circuit_state{tenant="${tenantLabel(database)}"} 2`)
  t.match(tenantLabel(database), /^[0-9a-f]{12}$/)
})
