// A request that announces a body and has not sent it yet still reaches the legacy at once, so the
// legacy's immediate answer (404, 405, 401: it does not read the body for those) comes back instead of
// a 504 after the upstream headers timeout. Found by `npm run fuzz` (docs/soak/2026-11-23-fuzz.md).
import t from 'tap'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { proxyFor } from '../proxy/support/proxy-under-test.ts'
import { sendRaw } from './raw-socket.ts'

const heads: string[] = []
const bodies: string[] = []
// Answers 404 without reading the body, as the legacy does for an unknown path; /echo reads the body first.
const upstream = http.createServer((req, res) => {
  heads.push(`${req.method} ${req.url}`)
  if (req.url !== '/echo') {
    res.writeHead(404, { 'Content-Length': '0' })
    return res.end()
  }
  const chunks: Buffer[] = []
  req.on('data', (chunk: Buffer) => chunks.push(chunk))
  req.on('end', () => {
    bodies.push(Buffer.concat(chunks).toString())
    res.end(`got ${Buffer.concat(chunks).length}`)
  })
})
await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
t.teardown(() => upstream.close())
const proxy = await proxyFor(t, { legacyUrl: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}` })

t.test('Content-Length announced, no body sent: the legacy sees the head and its 404 comes back at once', async (t) => {
  const reply = await sendRaw(proxy.url, 'PUT /nirgends HTTP/1.1\r\nHost: proxy\r\nContent-Length: 5\r\n\r\n', 4000)
  t.equal(reply.status, 404, reply.text.slice(0, 80))
  t.ok(reply.ms < 2000, `within ${Math.round(reply.ms)} ms, not after the upstream headers timeout`)
  t.ok(heads.includes('PUT /nirgends'), 'the legacy saw the request')
})

t.test('chunked, no chunk sent yet: the same', async (t) => {
  const reply = await sendRaw(proxy.url, 'POST /auch-nicht HTTP/1.1\r\nHost: proxy\r\nTransfer-Encoding: chunked\r\n\r\n', 4000)
  t.equal(reply.status, 404)
  t.ok(reply.ms < 2000, `within ${Math.round(reply.ms)} ms`)
})

t.test('a body that arrives slowly is still relayed whole', async (t) => {
  const reply = await sendRaw(proxy.url, 'POST /echo HTTP/1.1\r\nHost: proxy\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhallo', 6000, { delayMs: 5 })
  t.equal(reply.status, 200)
  t.match(reply.text, /got 5$/)
  t.same(bodies, ['hallo'])
})
