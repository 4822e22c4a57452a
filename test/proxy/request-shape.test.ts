// What the legacy receives through the pass-through: the request target byte for byte, the client's
// header lines in order with duplicates, hop-by-hop headers gone, X-Forwarded-* and X-Request-Id added.
import t from 'tap'
import { startEchoUpstream } from './support/echo-upstream.ts'
import { proxyFor } from './support/proxy-under-test.ts'
import { headerValue, rawExchange } from './support/raw-exchange.ts'

interface Seen {
  method: string
  url: string
  rawHeaders: string[]
  received: number
}

t.test('the legacy sees the target byte for byte and the header lines in order, duplicates kept', async (t) => {
  const upstream = await startEchoUpstream()
  t.teardown(() => upstream.close())
  const proxy = await proxyFor(t, { legacyUrl: upstream.url })
  for (const target of ['/echo//a/./b/../c?x=%2F&X=1&x=2', '/echo/%2e%2E/V2.0/Rezept/;a=b', '/echo?q=a+b&q=%C3%A4']) {
    const answer = await rawExchange(proxy.url, {
      method: 'PATCH',
      target,
      headers: ['Host', 'client.example', 'X-B', '1', 'x-a', '2', 'X-B', '3', 'Connection', 'keep-alive, X-Hop', 'X-Hop', 'gone', 'Keep-Alive', 'timeout=5', 'TE', 'trailers'],
      body: [Buffer.from('abc'), Buffer.from('def')],
    })
    const seen = JSON.parse(answer.body.toString()) as Seen
    t.equal(seen.method, 'PATCH')
    t.equal(seen.url, target, `${target} arrives unchanged`)
    t.same(seen.rawHeaders.slice(0, 8), ['Host', 'client.example', 'X-B', '1', 'X-B', '3', 'x-a', '2'], 'client headers first, in order, name case and duplicates kept')
    const names = seen.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase())
    t.notOk(names.includes('x-hop'), 'a header named in Connection is dropped')
    t.notOk(names.includes('te'), 'TE is dropped')
    t.ok(names.includes('transfer-encoding'), 'the chunked body is re-chunked')
    t.equal(seen.received, 6, 'the whole body arrived')
    const value = (name: string) => seen.rawHeaders[seen.rawHeaders.findIndex((n, i) => i % 2 === 0 && n.toLowerCase() === name) + 1]
    t.equal(value('x-forwarded-for'), '127.0.0.1')
    t.equal(value('x-forwarded-proto'), 'http')
    t.equal(value('x-forwarded-host'), 'client.example')
    t.match(value('x-request-id'), /^[0-9a-f-]{36}$/, 'a request id is generated and forwarded')
  }
})

t.test('an incoming X-Request-Id is kept, and X-Forwarded-For is appended to', async (t) => {
  const upstream = await startEchoUpstream()
  t.teardown(() => upstream.close())
  const proxy = await proxyFor(t, { legacyUrl: upstream.url })
  const answer = await rawExchange(proxy.url, { method: 'GET', target: '/echo', headers: ['X-Request-Id', 'abc-123', 'X-Forwarded-For', '10.0.0.1'] })
  const seen = JSON.parse(answer.body.toString()) as Seen
  t.same(seen.rawHeaders.filter((h, i) => i % 2 === 0 && h.toLowerCase() === 'x-request-id').length, 1)
  t.ok(seen.rawHeaders.includes('abc-123'))
  t.ok(seen.rawHeaders.includes('10.0.0.1, 127.0.0.1'))
})

t.test('X-Forwarded headers can be switched off and Server-Timing too', async (t) => {
  const upstream = await startEchoUpstream()
  t.teardown(() => upstream.close())
  const proxy = await proxyFor(t, { legacyUrl: upstream.url, forwardedHeaders: false, serverTiming: false })
  const answer = await rawExchange(proxy.url, { method: 'GET', target: '/echo' })
  const seen = JSON.parse(answer.body.toString()) as Seen
  t.notOk(seen.rawHeaders.some((h) => h.toLowerCase().startsWith('x-forwarded')))
  t.equal(headerValue(answer.headers, 'server-timing'), undefined)
})
