// The load generator's client counts exactly the body bytes a real server sends, however it frames them,
// reuses its connection, and reports a broken answer as an error instead of a short success.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { LeanHttpConnection } from '../../bench/lean-http.ts'
import { HttpConnections } from '../../bench/load.ts'

const BIG = Buffer.alloc(3 * 1024 * 1024 + 17, 'x')
let connections = 0
let seen: Array<{ method: string; url: string; authorization: string | undefined; body: string }> = []

const server: Server = createServer((req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (chunk: Buffer) => chunks.push(chunk))
  req.on('end', () => {
    seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, body: Buffer.concat(chunks).toString() })
    switch (req.url) {
      case '/length':
        res.writeHead(200, { 'content-length': BIG.length }).end(BIG)
        return
      case '/chunked':
        // Several writes without a length: node sends them chunked.
        res.writeHead(200)
        res.write(BIG.subarray(0, 1000))
        res.write(BIG.subarray(1000, 700_000))
        setTimeout(() => res.end(BIG.subarray(700_000)), 5)
        return
      case '/close':
        // HTTP/1.0-style: no length, the body ends with the connection.
        res.writeHead(200, { connection: 'close' })
        res.write('abc')
        res.end('defg')
        return
      case '/no-content':
        res.writeHead(204).end()
        return
      case '/missing':
        res.writeHead(404, { 'content-length': 9 }).end('not found')
        return
      case '/cut':
        res.writeHead(200, { 'content-length': 1000 })
        res.write('only part')
        setTimeout(() => res.destroy(), 5)
        return
      default:
        res.writeHead(200, { 'content-length': 2 }).end('ok')
    }
  })
})
server.on('connection', () => connections++)

let origin = ''
t.before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
t.teardown(() => {
  server.closeAllConnections()
  server.close()
})

t.test('Content-Length, chunked, until-close and empty bodies are counted exactly', async (t) => {
  const client = new LeanHttpConnection(origin)
  t.teardown(() => client.close())
  t.same(await client.request('GET', '/length', {}, undefined), { status: 200, bytes: BIG.length })
  t.same(await client.request('GET', '/chunked', {}, undefined), { status: 200, bytes: BIG.length })
  t.same(await client.request('GET', '/no-content', {}, undefined), { status: 204, bytes: 0 })
  t.same(await client.request('GET', '/missing', {}, undefined), { status: 404, bytes: 9 })
  t.same(await client.request('GET', '/close', {}, undefined), { status: 200, bytes: 7 })
  // The server closed: the next request opens a new connection by itself.
  t.same(await client.request('GET', '/length', {}, undefined), { status: 200, bytes: BIG.length })
})

t.test('one connection serves request after request, with the headers and body given', async (t) => {
  connections = 0
  seen = []
  const pool = new HttpConnections(origin)
  t.teardown(() => pool.close())
  for (let i = 0; i < 5; i++) t.equal(await pool.send(0, { method: 'GET', path: `/ok?i=${i}`, authorization: 'Basic abc', body: undefined }), 2)
  t.equal(await pool.send(0, { method: 'PATCH', path: '/ok', authorization: 'Basic abc', body: '{"a":"ä"}' }), 2)
  t.equal(connections, 1, 'keep-alive')
  t.same(seen.at(-1), { method: 'PATCH', url: '/ok', authorization: 'Basic abc', body: '{"a":"ä"}' })
  const refused = await pool.send(0, { method: 'GET', path: '/missing', authorization: 'Basic abc', body: undefined })
  t.ok(refused instanceof Error && /HTTP 404/.test(refused.message), 'a status other than 200 is an error of the turn')
})

t.test('an answer cut short is an error, and the connection is replaced', async (t) => {
  const client = new LeanHttpConnection(origin)
  t.teardown(() => client.close())
  await t.rejects(client.request('GET', '/cut', {}, undefined), /closed before the answer was complete/)
  t.same(await client.request('GET', '/ok', {}, undefined), { status: 200, bytes: 2 })
})

t.test('a request given up by its caller is abandoned for the next one', async (t) => {
  const client = new LeanHttpConnection(origin)
  t.teardown(() => client.close())
  const first = client.request('GET', '/cut', {}, undefined)
  const second = client.request('GET', '/ok', {}, undefined)
  await t.rejects(first, /abandoned/)
  t.same(await second, { status: 200, bytes: 2 })
})
