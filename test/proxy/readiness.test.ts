// Issue 16 point 8: Redis down made every instance not ready (/readyz 503) although answers stayed
// correct; behind one shared Redis the Kubernetes readiness probe would take every pod out. Ready
// now means "can serve": a failed Redis or ArzSw check is reported as degraded (body and metric),
// and 503 is kept for an instance that can answer nothing.
import t from 'tap'
import { request } from 'undici'
import { freePort } from '../../proxy/listen.ts'
import { pgAdminUrl } from '../../dev/services.ts'
import { startEchoUpstream } from './support/echo-upstream.ts'
import { proxyFor } from './support/proxy-under-test.ts'
import { stubFastPath } from './support/stub-fast-paths.ts'

async function readyz(adminUrl: string): Promise<{ status: number; json: unknown }> {
  const answer = await request(`${adminUrl}/readyz`)
  return { status: answer.statusCode, json: await answer.body.json() }
}

async function readinessMetric(adminUrl: string): Promise<string[]> {
  const text = await (await request(`${adminUrl}/metrics`)).body.text()
  return text.split('\n').filter((line) => line.startsWith('fastpath_readiness{'))
}

t.test('Redis unreachable, the legacy up: 200, degraded in the body and the metric', async (t) => {
  const upstream = await startEchoUpstream()
  t.teardown(() => upstream.close())
  const nobody = await freePort()
  const proxy = await proxyFor(t, { legacyUrl: upstream.url, redisUrl: `redis://127.0.0.1:${nobody}` })
  const ready = await readyz(proxy.adminUrl)
  t.equal(ready.status, 200, 'still ready: every answer can be given')
  t.same(ready.json, { ready: true, status: 'degraded', checks: { legacy: true, redis: false } })
  t.same((await readinessMetric(proxy.adminUrl)).sort(), [
    'fastpath_readiness{status="degraded"} 1',
    'fastpath_readiness{status="down"} 0',
    'fastpath_readiness{status="ok"} 0',
  ])
})

t.test('everything answers: 200 ok', async (t) => {
  const upstream = await startEchoUpstream()
  t.teardown(() => upstream.close())
  const proxy = await proxyFor(t, { legacyUrl: upstream.url, arzswUrl: pgAdminUrl() })
  t.same(await readyz(proxy.adminUrl), { status: 200, json: { ready: true, status: 'ok', checks: { legacy: true, arzsw: true } } })
})

t.test('the legacy down and no route on the fast path: 503 down', async (t) => {
  const port = await freePort()
  const proxy = await proxyFor(t, { legacyUrl: `http://127.0.0.1:${port}`, arzswUrl: pgAdminUrl() })
  t.same(await readyz(proxy.adminUrl), { status: 503, json: { ready: false, status: 'down', checks: { legacy: false, arzsw: true } } })
  t.ok((await readinessMetric(proxy.adminUrl)).includes('fastpath_readiness{status="down"} 1'), 'the metric says down')
})

t.test('the legacy down but a route on the fast path with ArzSw up: 200 degraded; ArzSw down too: 503', async (t) => {
  const port = await freePort()
  const fastPaths = [stubFastPath('v2.rezept.list', 'answer')]
  const serving = await proxyFor(t, { legacyUrl: `http://127.0.0.1:${port}`, arzswUrl: pgAdminUrl(), flags: 'v2.rezept.list=on' }, { fastPaths })
  t.same(await readyz(serving.adminUrl), { status: 200, json: { ready: true, status: 'degraded', checks: { legacy: false, arzsw: true } } })
  const nothing = await proxyFor(t, { legacyUrl: `http://127.0.0.1:${port}`, arzswUrl: 'postgres://nobody@127.0.0.1:1/none', flags: 'v2.rezept.list=on' }, { fastPaths })
  t.same(await readyz(nothing.adminUrl), { status: 503, json: { ready: false, status: 'down', checks: { legacy: false, arzsw: false } } })
})
