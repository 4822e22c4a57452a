// The legacy down, hanging before its status line, or stalling mid-body: the proxy answers 502/504
// in the legacy's plain-text style within its timeouts, cancels the upstream request when the
// client leaves, recovers when the legacy is back, and leaves no socket behind.
import { createServer } from 'node:net'
import t from 'tap'
import { request } from 'undici'
import { startEchoUpstream } from './support/echo-upstream.ts'
import { proxyFor } from './support/proxy-under-test.ts'
import { headerValue, rawExchange } from './support/raw-exchange.ts'
import { freePort } from '../../proxy/listen.ts'


t.test('a legacy that is down gets a quick 502, and the proxy recovers when it returns', async (t) => {
  const port = await freePort()
  const proxy = await proxyFor(t, { legacyUrl: `http://127.0.0.1:${port}` })
  const failures: string[] = []
  proxy.events.on((e) => void (e.type === 'upstream.failed' && failures.push(`${e.kind}:${e.code}`)))

  const started = performance.now()
  const down = await rawExchange(proxy.url, { method: 'GET', target: '/v2/rezept' })
  t.ok(performance.now() - started < 1000, 'answered at once')
  t.equal(down.status, 502)
  t.equal(headerValue(down.headers, 'content-type'), 'text/plain; charset=utf-8')
  t.equal(down.body.toString(), 'Bad Gateway: the ArzTi service is not reachable')
  t.equal(headerValue(down.headers, 'x-fastpath-error'), 'UPSTREAM_UNREACHABLE')
  t.match(headerValue(down.headers, 'server-timing'), /^legacy;dur=/)

  const json = await rawExchange(proxy.url, { method: 'GET', target: '/v2/rezept', headers: ['Accept', 'application/json'] })
  t.equal(headerValue(json.headers, 'content-type'), 'application/json; charset=utf-8')
  t.equal(json.body.toString(), '"Bad Gateway: the ArzTi service is not reachable"', 'Accept: application/json gets the text as a JSON string (docs/legacy-contract.md §3)')
  const head = await rawExchange(proxy.url, { method: 'HEAD', target: '/v2/rezept' })
  t.equal(head.status, 502)
  t.equal(head.body.length, 0, 'HEAD gets no body')
  t.same(failures.slice(0, 1), ['connect:UPSTREAM_UNREACHABLE'])

  const ready = await fetch(`${proxy.adminUrl}/readyz`)
  t.equal(ready.status, 503, 'not ready while the legacy is down')

  const upstream = await startEchoUpstream(port)
  t.teardown(() => upstream.close())
  const back = await rawExchange(proxy.url, { method: 'GET', target: '/v2/rezept' })
  t.equal(back.status, 200, 'recovers once the legacy is back')
  t.equal(back.body.toString(), 'legacy GET /v2/rezept')
})

t.test('a legacy that hangs before answering gets a 504 within the headers timeout; no socket leaks', async (t) => {
  const upstream = await startEchoUpstream()
  t.teardown(() => upstream.close())
  upstream.mode = 'hang-headers'
  const proxy = await proxyFor(t, { legacyUrl: upstream.url, 'upstream.headersTimeoutMs': 300 })
  const started = performance.now()
  const answers = await Promise.all([1, 2, 3].map(() => rawExchange(proxy.url, { method: 'GET', target: '/slow' })))
  const elapsed = performance.now() - started
  for (const answer of answers) {
    t.equal(answer.status, 504)
    t.equal(answer.body.toString(), 'Gateway Timeout: the ArzTi service did not answer in time')
  }
  t.ok(elapsed >= 290 && elapsed < 1500, `after the timeout (${elapsed.toFixed(0)} ms)`)
  while (upstream.openSockets() > 0 && performance.now() - started < 3000) await new Promise((r) => setTimeout(r, 10))
  t.equal(upstream.openSockets(), 0, 'the upstream connections of the timed-out requests are closed')

  upstream.mode = 'answer'
  const ok = await rawExchange(proxy.url, { method: 'GET', target: '/fine' })
  t.equal(ok.status, 200, 'the next request is answered normally')
})

t.test('a legacy that stalls mid-body has the answer cut after the body timeout', async (t) => {
  const upstream = await startEchoUpstream()
  t.teardown(() => upstream.close())
  upstream.mode = 'hang-body'
  const proxy = await proxyFor(t, { legacyUrl: upstream.url, 'upstream.headersTimeoutMs': 2000, 'upstream.bodyTimeoutMs': 300 })
  const failures: string[] = []
  proxy.events.on((e) => void (e.type === 'upstream.failed' && failures.push(e.kind)))
  const started = performance.now()
  const outcome = await rawExchange(proxy.url, { method: 'GET', target: '/stall' }).then(() => 'complete', (e: Error) => e.message)
  t.not(outcome, 'complete', 'the client sees the answer cut off, not a short body passed as whole')
  t.ok(performance.now() - started < 1500, 'after the body timeout')
  t.same(failures, ['body-timeout'])
  while (upstream.openSockets() > 0 && performance.now() - started < 3000) await new Promise((r) => setTimeout(r, 10))
  t.equal(upstream.openSockets(), 0, 'no upstream socket left')
})

t.test('a client that disconnects cancels its upstream request', async (t) => {
  const upstream = await startEchoUpstream()
  t.teardown(() => upstream.close())
  upstream.mode = 'hang-headers'
  const proxy = await proxyFor(t, { legacyUrl: upstream.url })
  const controller = new AbortController()
  const pending = request(`${proxy.url}/slow`, { signal: controller.signal }).catch(() => 'aborted')
  while (upstream.openSockets() === 0) await new Promise((r) => setTimeout(r, 5))
  controller.abort()
  t.equal(await pending, 'aborted')
  const started = performance.now()
  while (upstream.openSockets() > 0 && performance.now() - started < 2000) await new Promise((r) => setTimeout(r, 5))
  t.equal(upstream.openSockets(), 0, 'the upstream connection is closed at once')
})

t.test('a legacy that resets the connection gets a 502', async (t) => {
  const server = createServer((socket) => socket.once('data', () => socket.destroy()))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => server.close(resolve)))
  const proxy = await proxyFor(t, { legacyUrl: `http://127.0.0.1:${(server.address() as { port: number }).port}` })
  const answer = await rawExchange(proxy.url, { method: 'GET', target: '/x' })
  t.equal(answer.status, 502)
  t.equal(headerValue(answer.headers, 'x-fastpath-error'), 'UPSTREAM_RESET')
})
