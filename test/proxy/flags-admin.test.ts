// Flags through the admin API: a change applies to the next request, canary splits stably by
// credentials, the token is enforced, bad route ids and modes are refused with a message; and what
// each mode does with a fast path that answers, defers, throws or hangs.
import t from 'tap'
import { request } from 'undici'
import { pgAdminUrl } from '../../dev/services.ts'
import { startEchoUpstream } from './support/echo-upstream.ts'
import { proxyFor } from './support/proxy-under-test.ts'
import { basic, headerValue, rawExchange } from './support/raw-exchange.ts'
import type { FastAnswer } from '../../routes/contract.ts'
import { STUB_BODY, stubFastPath } from './support/stub-fast-paths.ts'

const TOKEN = 't0ken-for-tests'

async function admin(adminUrl: string, method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown, token: string | null = TOKEN) {
  const headers: Record<string, string> = { 'X-Admin-User': 'tester' }
  if (token !== null) headers.authorization = `Bearer ${token}`
  const answer = await request(`${adminUrl}${path}`, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) })
  const text = await answer.body.text()
  const json = String(answer.headers['content-type']).startsWith('application/json') ? (JSON.parse(text) as Record<string, unknown>) : undefined
  return { status: answer.statusCode, json, text }
}

t.test('a mode change through the admin API takes effect on the next request', async (t) => {
  const upstream = await startEchoUpstream()
  t.teardown(() => upstream.close())
  const fast = stubFastPath('v2.rezept.list', 'answer')
  const proxy = await proxyFor(t, { legacyUrl: upstream.url, 'admin.token': TOKEN }, { fastPaths: [fast] })

  const before = await rawExchange(proxy.url, { method: 'GET', target: '/v2/rezept' })
  t.equal(before.body.toString(), 'legacy GET /v2/rezept', 'off: the legacy answers')
  t.equal(fast.calls, 0, 'off: the fast path is not even asked')

  const put = await admin(proxy.adminUrl, 'PUT', '/flags/v2.rezept.list', { mode: 'on' })
  t.equal(put.status, 200)
  t.same(put.json?.flag, { mode: 'on' })
  const on = await rawExchange(proxy.url, { method: 'GET', target: '/V2.0/Rezept/?page=1' })
  t.same(on.body, STUB_BODY, 'on: the fast path answers')
  t.equal(headerValue(on.headers, 'content-type'), 'application/json; charset=utf-8')
  t.equal(headerValue(on.headers, 'content-length'), String(STUB_BODY.length))
  t.match(headerValue(on.headers, 'server-timing'), /^fast;dur=\d+\.\d$/)
  t.equal(fast.lastRequest?.rawUrl, '/V2.0/Rezept/?page=1', 'the fast path gets the raw target')

  const odd = await rawExchange(proxy.url, { method: 'GET', target: '/v2//rezept' })
  t.equal(odd.body.toString(), 'legacy GET /v2//rezept', 'an odd path is not matched even when on')
  const withBody = await rawExchange(proxy.url, { method: 'GET', target: '/v2/rezept', body: Buffer.from('x') })
  t.equal(withBody.body.toString(), 'legacy GET /v2/rezept', 'a request with a body passes through')
  const other = await rawExchange(proxy.url, { method: 'GET', target: '/v2/rezept/status' })
  t.equal(other.body.toString(), 'legacy GET /v2/rezept/status', 'a route without a fast path passes through')

  t.same((await admin(proxy.adminUrl, 'GET', '/flags')).json, { 'v2.rezept.list': { mode: 'on' }, 'v2.rezept.pharmacy': { mode: 'off' }, 'v1.prescriptions.new': { mode: 'off' }, 'v2.rezept.statusuuid': { mode: 'off' } })
  t.same((await admin(proxy.adminUrl, 'GET', '/flags/v2.rezept.list')).json, { mode: 'on' })
  await admin(proxy.adminUrl, 'PUT', '/flags/v2.rezept.list', { mode: 'off' })
  const off = await rawExchange(proxy.url, { method: 'GET', target: '/v2/rezept' })
  t.equal(off.body.toString(), 'legacy GET /v2/rezept', 'off again: the legacy answers')
})

t.test('canary splits stably by credentials: one client always sees one path', async (t) => {
  const upstream = await startEchoUpstream()
  t.teardown(() => upstream.close())
  const proxy = await proxyFor(t, { legacyUrl: upstream.url, 'admin.token': TOKEN, flags: 'v2.rezept.list=canary:50' }, { fastPaths: [stubFastPath('v2.rezept.list', 'cache')] })
  let fastClients = 0
  for (let client = 0; client < 40; client++) {
    const auth = basic(`user-${client}`, 'pw')
    const seen = new Set<string>()
    for (let i = 0; i < 3; i++) {
      const answer = await rawExchange(proxy.url, { method: 'GET', target: '/v2/rezept', headers: ['Authorization', auth] })
      seen.add(answer.body.toString())
    }
    t.equal(seen.size, 1, `client ${client} saw one path`)
    if (seen.has(STUB_BODY.toString())) fastClients++
  }
  t.ok(fastClients >= 8 && fastClients <= 32, `about half the clients go fast (${fastClients}/40)`)
  await admin(proxy.adminUrl, 'PUT', '/flags/v2.rezept.list', { mode: 'canary', percent: 100 })
  const all = await rawExchange(proxy.url, { method: 'GET', target: '/v2/rezept', headers: ['Authorization', basic('anyone', 'x')] })
  t.match(headerValue(all.headers, 'server-timing'), /^cache;dur=/, 'canary 100 % sends everyone fast; a cached answer says so')
})

t.test('the admin API takes canary:N, the FASTPATH_FLAGS syntax, as well as {"mode":"canary","percent":N}', async (t) => {
  const upstream = await startEchoUpstream()
  t.teardown(() => upstream.close())
  const proxy = await proxyFor(t, { legacyUrl: upstream.url })
  const short = await admin(proxy.adminUrl, 'PUT', '/flags/v2.rezept.list', { mode: 'canary:10' })
  t.equal(short.status, 200)
  t.same(short.json?.flag, { mode: 'canary', percent: 10 }, 'canary:10 is canary at 10 %')
  t.same((await admin(proxy.adminUrl, 'GET', '/flags/v2.rezept.list')).json, { mode: 'canary', percent: 10 })
  const long = await admin(proxy.adminUrl, 'PUT', '/flags/v2.rezept.list', { mode: 'canary', percent: 25 })
  t.same(long.json?.flag, { mode: 'canary', percent: 25 }, 'the object form still works')
})

t.test('the admin API refuses a wrong token, an unknown route id and an unknown mode', async (t) => {
  const upstream = await startEchoUpstream()
  t.teardown(() => upstream.close())
  const proxy = await proxyFor(t, { legacyUrl: upstream.url, 'admin.token': TOKEN })
  t.equal((await admin(proxy.adminUrl, 'GET', '/flags', undefined, 'wrong')).status, 401, 'wrong token: 401')
  t.equal((await admin(proxy.adminUrl, 'PUT', '/flags/v2.rezept.list', { mode: 'on' }, null)).status, 401, 'no token: 401')
  t.equal((await admin(proxy.adminUrl, 'GET', '/healthz', undefined, null)).status, 200, 'healthz needs no token')
  const unknownRoute = await admin(proxy.adminUrl, 'PUT', '/flags/v9.nothing', { mode: 'on' })
  t.equal(unknownRoute.status, 400)
  t.match(unknownRoute.json?.error, /unknown route id "v9.nothing"; accepted: v2.rezept.list, v2.rezept.pharmacy/)
  const unknownMode = await admin(proxy.adminUrl, 'PUT', '/flags/v2.rezept.list', { mode: 'fast' })
  t.equal(unknownMode.status, 400)
  t.match(unknownMode.json?.error, /unknown mode "fast"; accepted: off, shadow, on, canary/)
  t.match(unknownMode.json?.error, /\{"mode":"canary","percent":10\} or \{"mode":"canary:10"\}/, 'the error shows both canary forms')
  const noPercent = await admin(proxy.adminUrl, 'PUT', '/flags/v2.rezept.list', { mode: 'canary' })
  t.match(noPercent.json?.error, /needs a percent from 0 to 100: \{"mode":"canary","percent":10\} or \{"mode":"canary:10"\}/)
  for (const mode of ['canary:', 'canary:101', 'canary:ten', 'canary:10:5']) {
    const wrong = await admin(proxy.adminUrl, 'PUT', '/flags/v2.rezept.list', { mode })
    t.equal(wrong.status, 400, `${mode}: refused`)
    t.match(wrong.json?.error, /\{"mode":"canary:10"\}/, `${mode}: the error shows the accepted forms`)
  }
  t.equal((await admin(proxy.adminUrl, 'PUT', '/flags/v2.rezept.list', { mode: 'canary:10', percent: 10 })).status, 400, 'the percent given twice: refused')
  const notJson = await admin(proxy.adminUrl, 'PUT', '/flags/v2.rezept.list', '{mode')
  t.equal(notJson.status, 400)
  t.same((await admin(proxy.adminUrl, 'GET', '/flags/v2.rezept.list')).json, { mode: 'off' }, 'nothing changed')
  t.equal((await admin(proxy.adminUrl, 'GET', '/nowhere')).status, 404)
  t.equal((await admin(proxy.adminUrl, 'POST', '/flags/v2.rezept.list')).status, 405)
})

t.test('the admin paths other issues fill in answer already', async (t) => {
  const upstream = await startEchoUpstream()
  t.teardown(() => upstream.close())
  const proxy = await proxyFor(t, { legacyUrl: upstream.url, arzswUrl: pgAdminUrl() })
  t.same((await admin(proxy.adminUrl, 'GET', '/shadow/mismatches', undefined, null)).json, [], 'no token configured: loopback needs none')
  const metrics = await admin(proxy.adminUrl, 'GET', '/metrics', undefined, null)
  t.match(metrics.text, /fastpath_requests_in_flight \d/)
  const ready = await admin(proxy.adminUrl, 'GET', '/readyz', undefined, null)
  t.equal(ready.status, 200, 'the upstream answers its health route: ready')
  t.same(ready.json, { ready: true, status: 'ok', checks: { legacy: true, arzsw: true } }, 'ArzSw is checked when configured')
  const broken = await proxyFor(t, { legacyUrl: upstream.url, arzswUrl: 'postgres://nobody@127.0.0.1:1/none' })
  const notReady = await admin(broken.adminUrl, 'GET', '/readyz', undefined, null)
  t.equal(notReady.status, 200, 'the legacy still answers: ready (issue 16 point 8)')
  t.same(notReady.json, { ready: true, status: 'degraded', checks: { legacy: true, arzsw: false } }, 'an unreachable ArzSw is reported as degraded')
  const reload = await admin(proxy.adminUrl, 'POST', '/reload', undefined, null)
  t.same(reload.json, { reloaded: true, changed: [] })
})

t.test('a deferral, or a fast path that throws, is answered by the legacy', async (t) => {
  const upstream = await startEchoUpstream()
  t.teardown(() => upstream.close())
  const proxy = await proxyFor(t, { legacyUrl: upstream.url, flags: 'v2.rezept.list=on,v2.rezept.pharmacy=on' }, {
    fastPaths: [stubFastPath('v2.rezept.list', 'defer'), stubFastPath('v2.rezept.pharmacy', 'throw')],
  })
  const deferred: string[] = []
  proxy.events.on((e) => void (e.type === 'fast.deferred' && deferred.push(`${e.routeId}:${e.reason}`)))
  t.equal((await rawExchange(proxy.url, { method: 'GET', target: '/v2/rezept' })).body.toString(), 'legacy GET /v2/rezept')
  t.equal((await rawExchange(proxy.url, { method: 'GET', target: '/v2/rezept/status' })).body.toString(), 'legacy GET /v2/rezept/status')
  t.same(deferred, ['v2.rezept.list:query', 'v2.rezept.pharmacy:db-error'])
})

t.test('a client that goes away aborts the fast path signal', async (t) => {
  const upstream = await startEchoUpstream()
  t.teardown(() => upstream.close())
  const hang = stubFastPath('v2.rezept.list', 'hang')
  const proxy = await proxyFor(t, { legacyUrl: upstream.url, flags: 'v2.rezept.list=on' }, { fastPaths: [hang] })
  const controller = new AbortController()
  const pending = request(`${proxy.url}/v2/rezept`, { signal: controller.signal }).catch(() => 'aborted')
  while (hang.calls === 0) await new Promise((r) => setTimeout(r, 5))
  controller.abort()
  t.equal(await pending, 'aborted')
  while (!hang.lastSignal?.aborted) await new Promise((r) => setTimeout(r, 5))
  t.ok(hang.lastSignal?.aborted, 'the fast path was told to stop')
})

t.test('shadow: the legacy answers at once while the fast path runs beside it, excess shed', async (t) => {
  const upstream = await startEchoUpstream()
  t.teardown(() => upstream.close())
  const hang = stubFastPath('v2.rezept.list', 'hang')
  const proxy = await proxyFor(t, { legacyUrl: upstream.url, flags: 'v2.rezept.list=shadow', shadowConcurrency: 2 }, { fastPaths: [hang] })
  for (let i = 0; i < 4; i++) {
    const started = performance.now()
    const answer = await rawExchange(proxy.url, { method: 'GET', target: '/v2/rezept' })
    t.equal(answer.body.toString(), 'legacy GET /v2/rezept', 'the client gets the legacy answer')
    t.ok(performance.now() - started < 1000, 'and does not wait for the hanging fast path')
  }
  t.equal(proxy.shadow.counts.started, 2, 'two shadow runs at once at most')
  t.equal(proxy.shadow.counts.shed, 2, 'the rest shed and counted')
  t.equal(proxy.shadow.inFlight, 2)
  const answering = stubFastPath('v2.rezept.pharmacy', 'answer')
  const second = await proxyFor(t, { legacyUrl: upstream.url, flags: 'v2.rezept.pharmacy=shadow' }, { fastPaths: [answering, stubFastPath('v2.rezept.list', 'throw')] })
  await rawExchange(second.url, { method: 'GET', target: '/v2/rezept/status' })
  second.flags.set('v2.rezept.list', { mode: 'shadow' }, 'test', 'admin')
  await rawExchange(second.url, { method: 'GET', target: '/v2/rezept' })
  while (second.shadow.inFlight > 0) await new Promise((r) => setTimeout(r, 5))
  t.equal(second.shadow.counts.answered, 1)
  t.equal(second.shadow.counts.failed, 1)
})

t.test('a flag change never fails a request in flight: it finishes on the path it started on', async (t) => {
  const upstream = await startEchoUpstream()
  t.teardown(() => upstream.close())
  const slow = {
    routeId: 'v2.rezept.list' as const,
    handle: () => new Promise<FastAnswer>((resolve) => setTimeout(() => resolve({ kind: 'answer', status: 200, contentType: 'text/plain', body: STUB_BODY, servedBy: 'fast' }), 200)),
  }
  const proxy = await proxyFor(t, { legacyUrl: upstream.url, flags: 'v2.rezept.list=on' }, { fastPaths: [slow] })
  const inFlight = rawExchange(proxy.url, { method: 'GET', target: '/v2/rezept' })
  await new Promise((r) => setTimeout(r, 50))
  await admin(proxy.adminUrl, 'PUT', '/flags/v2.rezept.list', { mode: 'off' }, null)
  const next = await rawExchange(proxy.url, { method: 'GET', target: '/v2/rezept' })
  t.equal(next.body.toString(), 'legacy GET /v2/rezept', 'the next request follows the new flag')
  const first = await inFlight
  t.equal(first.status, 200)
  t.same(first.body, STUB_BODY, 'the request in flight is answered by the path it started on')
})
