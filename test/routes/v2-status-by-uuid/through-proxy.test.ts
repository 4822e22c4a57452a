// PATCH /v2/rezept/statusuuid through the real proxy (proxy/instance.ts): the body the proxy buffers
// reaches the legacy byte for byte when the route is off, in shadow, or when the fast path defers,
// and the route answers fast (with the legacy's bytes) when on.
import http from 'node:http'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { loadConfig } from '../../../config/load.ts'
import { EventBus, type ProxyEvent } from '../../../core/events.ts'
import { startLegacySim, type LegacySimHandle } from '../../../legacy-sim/server.ts'
import { startInstance, type RunningInstance } from '../../../proxy/instance.ts'
import { seed, type SeedReport } from '../../../sql/seed/seed.ts'
import { databaseUrl, pgAdminUrl } from '../../../dev/services.ts'
import { CASE_SETTINGS, CASE_USERS, basicAuthorization } from '../v2-rezept-list/cases.ts'
import { blankStatusBody, sendWithBody } from './status-cases.ts'

let report: SeedReport
let sim: LegacySimHandle
/** What reached the legacy: method, target and the body's bytes, in order. */
const seen: Array<{ method: string; url: string; body: Buffer; contentLength: string | undefined }> = []
let relay: http.Server
let relayUrl = ''

t.before(async () => {
  report = await seed({ adminUrl: pgAdminUrl(), prefix: 't_suuid_proxy_', rows: 300, kleinRows: 300 })
  sim = await startLegacySim({ arzswUrl: databaseUrl(report.databases.arzsw), port: 0, ...CASE_SETTINGS })
  // The "legacy" the proxy talks to: records each request's body, then lets the simulator answer it.
  relay = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      seen.push({ method: req.method ?? '', url: req.url ?? '', body, contentLength: req.headers['content-length'] })
      const headers: Record<string, string> = {}
      for (const name of ['authorization', 'content-type', 'accept']) if (typeof req.headers[name] === 'string') headers[name] = req.headers[name] as string
      sendWithBody(sim.port, req.method ?? 'GET', req.url ?? '/', headers, body).then((answer) => {
        res.writeHead(answer.status, answer.contentType === undefined ? {} : { 'content-type': answer.contentType })
        res.end(answer.body)
      }, () => res.destroy())
    })
  })
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve))
  relayUrl = `http://127.0.0.1:${(relay.address() as AddressInfo).port}`
})
t.teardown(async () => {
  await new Promise<void>((resolve) => relay?.close(() => resolve()))
  await sim?.close()
})

async function proxyWith(t: Test, mode: string, events?: EventBus, more: Record<string, unknown> = {}): Promise<RunningInstance> {
  const config = loadConfig({
    env: { FASTPATH_ENV: 'test' },
    overrides: { legacyUrl: relayUrl, arzswUrl: databaseUrl(report.databases.arzsw), ...CASE_SETTINGS, flags: { 'v2.rezept.statusuuid': mode }, serverTiming: true, ...more },
  })
  const instance = await startInstance(config, events === undefined ? {} : { events })
  t.teardown(instance.close)
  return instance
}

const authorization = basicAuthorization(CASE_USERS.klein.login, CASE_USERS.klein.password)
const portOf = (url: string) => Number(new URL(url).port)

async function uuidsOfKlein(): Promise<string[]> {
  const answer = await sendWithBody(sim.port, 'GET', '/v2/rezept?pageSize=5', { authorization }, Buffer.alloc(0))
  return (JSON.parse(answer.body.toString()) as { prescriptions: Array<{ rezeptUuid: string }> }).prescriptions.map((p) => p.rezeptUuid)
}

// Odd but valid bytes: blanks, an escape, a non-ASCII text, a line break: what the legacy gets must be these.
const oddBody = (uuids: string[]) => Buffer.from(`{ "rezeptUuids" : [ ${uuids.map((u) => JSON.stringify(u)).join(' ,\r\n')}, "\\u00e4-ä-€" ] }`, 'utf8')

t.test('route off: the PATCH and its body reach the legacy byte for byte', async (t) => {
  const proxy = await proxyWith(t, 'off')
  const body = oddBody(await uuidsOfKlein())
  const before = seen.length
  const answer = await sendWithBody(portOf(proxy.proxy.url), 'PATCH', '/v2/rezept/statusuuid', { authorization, 'content-type': 'application/json' }, body)
  t.equal(answer.status, 200)
  t.equal(seen.length, before + 1, 'the legacy was asked')
  t.ok(seen.at(-1)!.body.equals(body), 'the same bytes')
  t.equal(seen.at(-1)!.contentLength, String(body.length), 'under the same Content-Length')
})

t.test('route on: answered fast with the legacy\'s bytes; a deferred PATCH reaches the legacy with its body', async (t) => {
  const proxy = await proxyWith(t, 'on')
  const port = portOf(proxy.proxy.url)
  const body = oddBody(await uuidsOfKlein())
  const direct = await sendWithBody(sim.port, 'PATCH', '/v2/rezept/statusuuid', { authorization, 'content-type': 'application/json' }, body)
  const before = seen.length
  const fast = await sendWithBody(port, 'PATCH', '/v2/rezept/statusuuid', { authorization, 'content-type': 'application/json' }, body)
  t.equal(seen.length, before, 'the legacy was not asked')
  t.equal(fast.status, 200)
  t.equal(fast.contentType, direct.contentType)
  t.equal(blankStatusBody(fast.body).text, blankStatusBody(direct.body).text, 'the legacy\'s bytes')
  t.match(blankStatusBody(fast.body).text, /"totalCount":16,"successCount":15,/, 'page 1 × 5 of each type found, the odd text not')

  // Deferred for its content type (a charset parameter), for a wrong shape, for failed credentials:
  // each reaches the legacy with the very bytes sent.
  const deferredCases: Array<[string, Record<string, string>, Buffer]> = [
    ['charset', { authorization, 'content-type': 'application/json; charset=utf-8' }, body],
    ['wrong shape', { authorization, 'content-type': 'application/json' }, Buffer.from('{"rezeptUuids":[1,2]}')],
    ['not json', { authorization, 'content-type': 'application/json' }, Buffer.from('not json')],
    ['wrong password', { authorization: basicAuthorization('arz-klein', 'falsch'), 'content-type': 'application/json' }, body],
  ]
  for (const [name, headers, sent] of deferredCases) {
    const count = seen.length
    const viaProxy = await sendWithBody(port, 'PATCH', '/V2.0/rezept/statusuuid/', headers, sent)
    const legacy = await sendWithBody(sim.port, 'PATCH', '/V2.0/rezept/statusuuid/', headers, sent)
    t.equal(seen.length, count + 1, `${name}: the legacy was asked`)
    t.ok(seen.at(-1)!.body.equals(sent), `${name}: with the same bytes`)
    t.equal(seen.at(-1)!.url, '/V2.0/rezept/statusuuid/', `${name}: at the same target`)
    t.equal(viaProxy.status, legacy.status, `${name}: the legacy's status`)
    t.equal(blankStatusBody(viaProxy.body).text, blankStatusBody(legacy.body).text, `${name}: the legacy's answer`)
  }
})

t.test('route in shadow: the legacy answers from the same bytes, the fast path runs beside it and matches', async (t) => {
  const events = new EventBus()
  const compared: ProxyEvent[] = []
  events.on((event) => {
    if (event.type === 'shadow.compared' && event.routeId === 'v2.rezept.statusuuid') compared.push(event)
  })
  const proxy = await proxyWith(t, 'shadow', events)
  const port = portOf(proxy.proxy.url)
  const body = oddBody(await uuidsOfKlein())
  const before = seen.length
  const answer = await sendWithBody(port, 'PATCH', '/v2/rezept/statusuuid', { authorization, 'content-type': 'application/json' }, body)
  t.equal(answer.status, 200)
  t.equal(seen.length, before + 1, 'the legacy was asked')
  t.ok(seen.at(-1)!.body.equals(body), 'with the same bytes')
  // A validation problem: its trace id differs on both sides and is no mismatch.
  const problem = await sendWithBody(port, 'PATCH', '/v2/rezept/statusuuid', { authorization, 'content-type': 'application/json' }, Buffer.from('{"rezeptUuids":null}'))
  t.equal(problem.status, 400)
  for (let i = 0; i < 100 && compared.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 50))
  t.same(compared.map((e) => e.type === 'shadow.compared' && e.outcome), ['match', 'match'], 'both shadow comparisons match')
})

t.test('a chunked body is not buffered: it streams to the legacy as it came', async (t) => {
  const proxy = await proxyWith(t, 'on')
  const before = seen.length
  const status = await new Promise<number>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: portOf(proxy.proxy.url), method: 'PATCH', path: '/v2/rezept/statusuuid', headers: { authorization, 'content-type': 'application/json' } }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.write('{"rezeptUuids":')
    req.end('["a"]}')
  })
  t.equal(status, 200)
  t.equal(seen.length, before + 1, 'the legacy answered')
  t.equal(seen.at(-1)!.body.toString(), '{"rezeptUuids":["a"]}')
})

t.test('a body that trickles while the proxy reads it for the fast path is cut with 408, as on the way to the legacy', async (t) => {
  const proxy = await proxyWith(t, 'on', undefined, { 'limits.bodyTimeoutMs': 600, 'limits.bodyMinBytesPerSecond': 0 })
  const before = seen.length
  const started = performance.now()
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = net.connect(portOf(proxy.proxy.url), '127.0.0.1', () => {
      socket.write(`PATCH /v2/rezept/statusuuid HTTP/1.1\r\nHost: x\r\nAuthorization: ${authorization}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"rezeptUuids":[`)
    })
    let text = ''
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')))
    socket.on('close', () => resolve(text))
    socket.on('error', reject)
  })
  t.match(answer, /^HTTP\/1\.1 408 /, '408 once the body is overdue')
  t.ok(performance.now() - started < 5000, 'within the body deadline, not the request timeout')
  t.equal(seen.length, before, 'the legacy was never asked')
})
