// The pass-through's kept-alive sockets to the legacy (issue 26 point 6): closed after
// upstream.idleSocketTimeoutMs, below Kestrel's 130 s; and when the legacy closes a reused socket just
// as a request arrives on it, an idempotent request without a body is sent once more on a fresh
// connection, a write never.
import t, { type Test } from 'tap'
import { createServer, type Socket } from 'node:net'
import { listen } from '../../proxy/listen.ts'
import { proxyFor } from './support/proxy-under-test.ts'
import { headerValue, rawExchange } from './support/raw-exchange.ts'

interface RawLegacy {
  readonly url: string
  /** Every request line received, as `<connection number> <METHOD> <target>`. */
  readonly requests: string[]
  /** Resolves with the ms a connection stayed open after its last answer, when it closes. */
  nextClose(): Promise<number>
}

/**
 * A legacy written on a raw socket, so nothing in between decides when a connection ends: it answers
 * the first request of every connection with keep-alive, and closes the connection without a word
 * when a second request arrives on it (Kestrel's idle close meeting a request in flight).
 */
async function startRawLegacy(t: Test): Promise<RawLegacy> {
  const requests: string[] = []
  const sockets = new Set<Socket>()
  const closes: ((ms: number) => void)[] = []
  let connections = 0
  const server = createServer((socket) => {
    const id = ++connections
    sockets.add(socket)
    let answered = 0
    let lastAnswerAt = 0
    let buffered = ''
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1')
      let end: number
      while ((end = buffered.indexOf('\r\n\r\n')) >= 0) {
        const [method, target] = buffered.slice(0, buffered.indexOf('\r\n')).split(' ')
        buffered = buffered.slice(end + 4)
        requests.push(`${id} ${method} ${target}`)
        if (answered++ > 0) return void socket.destroy()
        socket.write(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n${method === 'HEAD' ? '' : 'ok'}`)
        lastAnswerAt = performance.now()
      }
    })
    socket.on('close', () => {
      sockets.delete(socket)
      closes.shift()?.(performance.now() - lastAnswerAt)
    })
  })
  const url = await listen(server, 0, '127.0.0.1')
  t.teardown(() => {
    for (const socket of sockets) socket.destroy()
    server.close()
  })
  return { url, requests, nextClose: () => new Promise((resolve) => closes.push(resolve)) }
}

t.test('a GET on a reused socket the legacy just closed is sent again on a fresh connection', async (t) => {
  const legacy = await startRawLegacy(t)
  const proxy = await proxyFor(t, { legacyUrl: legacy.url })
  const first = await rawExchange(proxy.url, { method: 'GET', target: '/v2/rezept?a' })
  t.equal(first.status, 200)
  const second = await rawExchange(proxy.url, { method: 'GET', target: '/v2/rezept?b' })
  t.equal(second.status, 200, 'the client never sees the closed socket')
  t.equal(second.body.toString(), 'ok')
  t.same(legacy.requests, ['1 GET /v2/rezept?a', '1 GET /v2/rezept?b', '2 GET /v2/rezept?b'], 'once on the reused connection, once on a new one')
  // The retry's connection was not kept: the next request opens one, the one after reuses it.
  t.equal((await rawExchange(proxy.url, { method: 'HEAD', target: '/v2/rezept?c' })).status, 200)
  t.equal((await rawExchange(proxy.url, { method: 'HEAD', target: '/v2/rezept?d' })).status, 200, 'HEAD is sent again too')
  t.same(legacy.requests.slice(3), ['3 HEAD /v2/rezept?c', '3 HEAD /v2/rezept?d', '4 HEAD /v2/rezept?d'])
})

t.test('a PATCH on such a socket is not sent again: the client gets the proxy\'s 502', async (t) => {
  const legacy = await startRawLegacy(t)
  const proxy = await proxyFor(t, { legacyUrl: legacy.url })
  t.equal((await rawExchange(proxy.url, { method: 'GET', target: '/warm' })).status, 200)
  const patch = await rawExchange(proxy.url, { method: 'PATCH', target: '/v2/rezept/status', body: Buffer.from('[]'), headers: ['Content-Type', 'application/json'] })
  t.equal(patch.status, 502)
  t.equal(headerValue(patch.headers, 'x-fastpath-error'), 'UPSTREAM_RESET')
  t.same(legacy.requests, ['1 GET /warm', '1 PATCH /v2/rezept/status'], 'the legacy saw the write once: it may have committed it')
  const getWithBody = await rawExchange(proxy.url, { method: 'GET', target: '/warm' })
  t.equal(getWithBody.status, 200)
  const bodied = await rawExchange(proxy.url, { method: 'GET', target: '/with-body', body: Buffer.from('x') })
  t.equal(bodied.status, 502, 'a GET with a streamed body is not sent again either')
})

t.test('an idle socket to the legacy is closed after upstream.idleSocketTimeoutMs', async (t) => {
  const legacy = await startRawLegacy(t)
  const proxy = await proxyFor(t, { legacyUrl: legacy.url, 'upstream.idleSocketTimeoutMs': 300 })
  const closed = legacy.nextClose()
  t.equal((await rawExchange(proxy.url, { method: 'GET', target: '/v2/rezept' })).status, 200)
  // A bound, so a proxy that keeps the socket fails here rather than at tap's timeout.
  const idleMs = await Promise.race([closed, new Promise<number>((resolve) => setTimeout(() => resolve(Infinity), 5000).unref())])
  t.ok(idleMs >= 250 && idleMs < 5000, `closed by the proxy after ${idleMs.toFixed(0)} ms idle`)
  t.same(legacy.requests, ['1 GET /v2/rezept'])
})
