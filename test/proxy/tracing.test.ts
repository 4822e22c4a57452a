// Issue 23: with tracing on, each request is one trace an SRE can follow from the client through the
// proxy into the legacy. A real OTLP/HTTP receiver on loopback collects what the proxy exports (the
// JSON encoding); the span trees of a fast answer, a cached answer, a deferral and a pass-through are
// checked with their attributes, no attribute carries a credential, connection string or XML, and
// the legacy simulator's log line carries the trace id of the proxy's legacy span. With tracing off
// a client's own `traceparent` reaches the legacy untouched.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { Agent, request } from 'undici'
import { loadConfig } from '../../config/load.ts'
import { startLegacySim } from '../../legacy-sim/server.ts'
import { startInstance } from '../../proxy/instance.ts'
import { startTracing } from '../../proxy/tracing/tracing.ts'
import { EventBus } from '../../core/events.ts'
import { startEchoUpstream } from './support/echo-upstream.ts'
import { proxyFor } from './support/proxy-under-test.ts'
import { seed } from '../../sql/seed/seed.ts'
import { databaseUrl, pgAdminUrl } from '../../dev/services.ts'

const PASSWORD = 'klein-Geheim2'
const WRONG = 'klein-Falsch9'
const KLEIN = `Basic ${Buffer.from(`arz-klein:${PASSWORD}`).toString('base64')}`
const KLEIN_WRONG = `Basic ${Buffer.from(`arz-klein:${WRONG}`).toString('base64')}`
const LIST = '/v2/rezept?pageSize=50'
const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736'
const CLIENT_PARENT = '00f067aa0ba902b7'

const report = await seed({ adminUrl: pgAdminUrl(), prefix: 't_tracing_', rows: 300, kleinRows: 300 })
const arzswUrl = databaseUrl(report.databases.arzsw)
const simLog: Array<{ Message: string; Scopes: Array<{ TraceId: string; ParentId: string }> }> = []
const sim = await startLegacySim({ arzswUrl, port: 0, log: (line) => simLog.push(JSON.parse(line)) })
t.teardown(() => sim.close())

interface OtlpValue { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number }
interface OtlpSpan { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; startTimeUnixNano: string; endTimeUnixNano: string; attributes: Array<{ key: string; value: OtlpValue }>; links?: Array<{ traceId: string; spanId: string }>; status?: { code?: number } }
interface Span { traceId: string; spanId: string; parentSpanId: string; name: string; kind: number; startNs: bigint; endNs: bigint; attributes: Record<string, string | number | boolean>; links: Array<{ traceId: string; spanId: string }> }

/** A tiny OTLP/HTTP receiver: every POST body kept as it came. */
async function startReceiver() {
  const bodies: string[] = []
  const contentTypes: string[] = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString('utf8'))
      contentTypes.push(String(req.headers['content-type']))
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`,
    bodies,
    contentTypes,
    spans(): Span[] {
      const out: Span[] = []
      for (const body of bodies) {
        const parsed = JSON.parse(body) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }> }
        for (const resource of parsed.resourceSpans) for (const scope of resource.scopeSpans) for (const span of scope.spans) {
          const attributes: Span['attributes'] = {}
          for (const { key, value } of span.attributes) attributes[key] = value.stringValue ?? value.boolValue ?? Number(value.intValue ?? value.doubleValue)
          out.push({ traceId: span.traceId, spanId: span.spanId, parentSpanId: span.parentSpanId ?? '', name: span.name, kind: span.kind, startNs: BigInt(span.startTimeUnixNano), endNs: BigInt(span.endTimeUnixNano), attributes, links: (span.links ?? []).map(({ traceId, spanId }) => ({ traceId, spanId })) })
        }
      }
      return out
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

const configOf = (tracing: Record<string, unknown>) => loadConfig({
  env: { FASTPATH_ENV: 'test' },
  overrides: {
    legacyUrl: sim.url, arzswUrl, flags: 'v2.rezept.list=on,v2.rezept.pharmacy=shadow', 'legacyProbe.login': 'arz-klein', 'legacyProbe.password': PASSWORD,
    fastPath: { cache: { maxStaleMs: 600_000 } },
    tracing,
  },
})

async function send(agent: Agent, url: string, headers: Record<string, string>) {
  const res = await request(url, { dispatcher: agent, headers })
  await res.body.arrayBuffer()
  return { status: res.statusCode, servedBy: String(res.headers['server-timing'] ?? '').split(';')[0]! }
}

/** The trace's spans as an indented tree, children by start time: what docs/operations.md shows. */
export function renderTree(spans: readonly Span[], traceId: string): string {
  const mine = spans.filter((span) => span.traceId === traceId)
  const ids = new Set(mine.map((span) => span.spanId))
  const root = mine.filter((span) => !ids.has(span.parentSpanId))
  const lines: string[] = []
  const origin = root.reduce((min, span) => (span.startNs < min ? span.startNs : min), root[0]?.startNs ?? 0n)
  const walk = (span: Span, depth: number) => {
    const at = Number(span.startNs - origin) / 1e6
    const took = Number(span.endNs - span.startNs) / 1e6
    const shown = Object.entries(span.attributes).filter(([key]) => key.startsWith('fastpath.') || key === 'http.response.status_code' || key === 'http.route').map(([key, value]) => `${key}=${value}`).join(' ')
    lines.push(`${'  '.repeat(depth)}${span.name}  [+${at.toFixed(2)} ms, ${took.toFixed(2)} ms]  ${shown}`)
    for (const child of mine.filter((s) => s.parentSpanId === span.spanId).sort((a, b) => (a.startNs < b.startNs ? -1 : 1))) walk(child, depth + 1)
  }
  for (const span of root) walk(span, 0)
  return lines.join('\n')
}

t.test('tracing on: the span trees of a fast, a cached, a deferred and a passed-through request', async (t) => {
  const receiver = await startReceiver()
  t.teardown(receiver.close)
  const agent = new Agent()
  t.teardown(() => agent.close())
  const events = new EventBus()
  const compared: string[] = []
  events.on((event) => { if (event.type === 'shadow.compared') compared.push(event.outcome) })
  const instance = await startInstance(configOf({ exporter: 'otlp', endpoint: receiver.url }), { events })
  let closed = false
  t.teardown(() => (closed ? undefined : instance.close()))
  simLog.length = 0

  const traceparent = (n: number) => `00-${CLIENT_TRACE.slice(0, 30)}${String(n).padStart(2, '0')}-${CLIENT_PARENT}-01`
  const fast = await send(agent, instance.proxy.url + LIST, { authorization: KLEIN, traceparent: traceparent(1) })
  t.same(fast, { status: 200, servedBy: 'fast' })
  const cached = await send(agent, instance.proxy.url + LIST, { authorization: KLEIN, traceparent: traceparent(2) })
  t.same(cached, { status: 200, servedBy: 'cache' })
  const deferred = await send(agent, instance.proxy.url + LIST, { authorization: KLEIN_WRONG, traceparent: traceparent(3) })
  t.same(deferred, { status: 401, servedBy: 'legacy' }, 'a wrong password is the legacy\'s to refuse')
  const passed = await send(agent, instance.proxy.url + '/api/apotheken/1', { authorization: KLEIN, traceparent: traceparent(4) })
  t.equal(passed.servedBy, 'legacy')
  // No traceparent from the client: the proxy's span is a root, and the legacy still joins.
  await send(agent, instance.proxy.url + '/api/apotheken', { authorization: KLEIN })
  // Shadow: the legacy answers, the fast path runs after and is compared.
  t.equal((await send(agent, instance.proxy.url + '/v2/rezept/status?pageSize=5', { authorization: KLEIN, traceparent: traceparent(5) })).servedBy, 'legacy')
  for (let i = 0; i < 200 && compared.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 25))
  t.equal(compared.length, 1, `the shadow run was compared (${compared[0]})`)
  await instance.close()
  closed = true

  t.ok(receiver.contentTypes.every((type) => type.startsWith('application/json')), 'OTLP over HTTP, JSON encoding')
  const spans = receiver.spans()
  const traceOf = (n: number) => traceparent(n).split('-')[1]!
  const inTrace = (n: number) => spans.filter((span) => span.traceId === traceOf(n))
  const server = (n: number) => inTrace(n).find((span) => span.kind === 2)!
  const childrenOf = (parent: Span) => spans.filter((span) => span.parentSpanId === parent.spanId)

  // 1. fast: continued from the client's traceparent; authentication (BCrypt), cache lookup (miss), the statements.
  const fastSpan = server(1)
  t.ok(fastSpan, 'the fast answer has its server span in the client\'s trace')
  t.equal(fastSpan.parentSpanId, CLIENT_PARENT, 'its parent is the client\'s span')
  t.equal(fastSpan.name, 'GET /v2/rezept')
  t.match(fastSpan.attributes, {
    'http.request.method': 'GET', 'http.route': '/v2/rezept', 'url.path': '/v2/rezept', 'http.response.status_code': 200,
    'fastpath.route_id': 'v2.rezept.list', 'fastpath.flag_mode': 'on', 'fastpath.served_by': 'fast',
  })
  t.match(fastSpan.attributes['fastpath.tenant'], /^[0-9a-f]{12}$/, 'the tenant as its hashed id')
  const fastChildren = childrenOf(fastSpan)
  const auth = fastChildren.find((span) => span.name === 'authenticate')
  t.equal(auth?.attributes['fastpath.auth.outcome'], 'verified', 'the first request ran BCrypt')
  t.equal(fastChildren.find((span) => span.name === 'cache lookup')?.attributes['fastpath.cache.outcome'], 'miss')
  const statements = fastChildren.filter((span) => span.name.startsWith('SQL '))
  t.ok(statements.length >= 1, `the statements are child spans (${statements.map((span) => span.name).join(', ')})`)
  t.ok(statements.every((span) => span.attributes['db.system.name'] === 'postgresql' && typeof span.attributes['db.operation.name'] === 'string'))
  t.notOk(fastChildren.some((span) => span.kind === 3), 'no legacy call')

  // 2. cached: the outcome cache knew the credentials, the answer came from memory, no statement.
  const cachedSpan = server(2)
  t.match(cachedSpan.attributes, { 'fastpath.served_by': 'cache', 'http.response.status_code': 200 })
  t.same(childrenOf(cachedSpan).map((span) => [span.name, span.attributes['fastpath.auth.outcome'] ?? span.attributes['fastpath.cache.outcome']]),
    [['authenticate', 'cached'], ['cache lookup', 'hit-l1']])

  // 3. deferral: the reason on the span, and the legacy call below it.
  const deferredSpan = server(3)
  t.match(deferredSpan.attributes, { 'fastpath.defer_reason': 'auth-wrong-password', 'fastpath.served_by': 'legacy', 'http.response.status_code': 401 })
  const deferredChildren = childrenOf(deferredSpan)
  t.ok(deferredChildren.some((span) => span.name === 'authenticate' && span.attributes['fastpath.auth.outcome'] === 'rejected'))
  const deferredLegacy = deferredChildren.find((span) => span.kind === 3)
  t.match(deferredLegacy?.attributes, { 'http.response.status_code': 401 }, 'the legacy call is a client span')

  // 4. pass-through: a bounded route label, the legacy call, and the legacy's log in the same trace.
  const passSpan = server(4)
  t.equal(passSpan.name, 'GET /api/apotheken/{id}', 'the path\'s id is not in the name')
  t.match(passSpan.attributes, { 'http.route': '/api/apotheken/{id}', 'url.path': '/api/apotheken/{id}', 'fastpath.route_id': 'pass-through', 'fastpath.served_by': 'legacy' })
  t.notOk('fastpath.flag_mode' in passSpan.attributes, 'no flag decides a route without a fast path')
  const passLegacy = childrenOf(passSpan).find((span) => span.kind === 3)!
  t.equal(passLegacy.name, 'GET legacy')
  for (const n of [3, 4]) {
    const legacy = childrenOf(server(n)).find((span) => span.kind === 3)!
    const line = simLog.find((entry) => entry.Scopes[0]!.TraceId === traceOf(n))
    t.ok(line, `the simulator logged trace ${traceOf(n)}`)
    t.equal(line?.Scopes[0]!.ParentId, legacy.spanId, 'its parent is the proxy\'s legacy span')
  }
  t.equal(simLog.length, 4, 'one log line per request the legacy saw (the fast and cached answers never reached it)')

  // 5. shadow: the request's trace as a pass-through, and the shadow run as a trace of its own linked to it.
  const shadowed = server(5)
  t.match(shadowed.attributes, { 'http.route': '/v2/rezept/status', 'fastpath.route_id': 'v2.rezept.pharmacy', 'fastpath.flag_mode': 'shadow', 'fastpath.served_by': 'legacy' })
  t.ok(childrenOf(shadowed).some((span) => span.kind === 3), 'the legacy answered the client')
  const shadowRun = spans.find((span) => span.name === 'shadow v2.rezept.pharmacy')!
  t.ok(shadowRun, 'the shadow run has its span')
  t.not(shadowRun.traceId, traceOf(5), 'in a trace of its own (the request was over)')
  t.same(shadowRun.links, [{ traceId: traceOf(5), spanId: shadowed.spanId }], 'linked to the request\'s span')
  t.equal(shadowRun.attributes['fastpath.shadow.outcome'], compared[0], 'with the comparison\'s outcome')
  t.ok(childrenOf(shadowRun).some((span) => span.name === 'authenticate'), 'the fast path\'s stages below it')
  const rootOnly = simLog.find((entry) => entry.Message.endsWith(' /api/apotheken'))!
  const rootSpan = spans.find((span) => span.traceId === rootOnly.Scopes[0]!.TraceId && span.kind === 2)
  t.equal(rootSpan?.parentSpanId, '', 'without a client traceparent the proxy\'s span is the root, and the legacy joins it')

  // Nothing secret or patient-related in any attribute or name.
  const everything = JSON.stringify(spans.map((span) => [span.name, span.attributes]))
  for (const secret of [PASSWORD, WRONG, KLEIN.slice(6), KLEIN_WRONG.slice(6), 'arz-klein', 'postgres://', 'Password=', 'Host=', arzswUrl, '<', 'xmlRequest', '?pageSize']) {
    t.notOk(everything.includes(secret), `no span carries ${JSON.stringify(secret.slice(0, 24))}`)
  }
  for (const n of [1, 2, 3, 4, 5]) t.comment(`trace ${n}:\n${renderTree(spans, traceOf(n))}`)
  t.comment(`shadow run:\n${renderTree(spans, shadowRun.traceId)}`)
})

t.test('tracing off: no export, and a client\'s traceparent reaches the legacy untouched', async (t) => {
  const receiver = await startReceiver()
  t.teardown(receiver.close)
  const agent = new Agent()
  t.teardown(() => agent.close())
  const instance = await startInstance(configOf({ exporter: 'none', endpoint: receiver.url }))
  t.teardown(instance.close)
  simLog.length = 0
  const header = `00-${CLIENT_TRACE}-${CLIENT_PARENT}-01`
  await send(agent, instance.proxy.url + '/api/apotheken/1', { authorization: KLEIN, traceparent: header })
  t.same(await send(agent, instance.proxy.url + LIST, { authorization: KLEIN, traceparent: header }), { status: 200, servedBy: 'fast' })
  await instance.close()
  t.same(simLog.map((entry) => entry.Scopes[0]), [{ TraceId: CLIENT_TRACE, ParentId: CLIENT_PARENT, Sampled: true }], 'the client\'s header as it sent it')
  t.equal(receiver.bodies.length, 0, 'nothing exported')
})

t.test('tracing on: the legacy gets the client\'s header lines as with it off, but for traceparent and tracestate', async (t) => {
  const upstream = await startEchoUpstream()
  t.teardown(() => upstream.close())
  const receiver = await startReceiver()
  t.teardown(receiver.close)
  const agent = new Agent()
  t.teardown(() => agent.close())
  const headers: Array<[string, string]> = [
    ['X-Request-Id', 'req-1'], ['TraceParent', `00-${CLIENT_TRACE}-${CLIENT_PARENT}-01`], ['Accept', 'application/json'],
    ['tracestate', 'vendor=opaque'], ['X-Custom', 'a'], ['X-Custom', 'b'], ['authorization', KLEIN],
  ]
  const seenThrough = async (tracing: boolean) => {
    const events = new EventBus()
    const overrides = { legacyUrl: upstream.url, tracing: { exporter: tracing ? 'otlp' : 'none', endpoint: receiver.url } }
    const config = loadConfig({ env: { FASTPATH_ENV: 'test' }, overrides })
    const traces = startTracing(config.tracing, events)
    const proxy = await proxyFor(t, overrides, { events, ...(traces ? { tracing: traces } : {}) })
    const res = await request(`${proxy.url}/api/apotheken/7?x=1`, { dispatcher: agent, headers: headers.flat() })
    await res.body.arrayBuffer()
    await proxy.shutdown()
    await traces?.shutdown()
    // The proxy's own address (Host, X-Forwarded-Host) differs between the two runs: named alike.
    const seen = upstream.seen.at(-1)!
    return { url: seen.url, rawHeaders: seen.rawHeaders.map((value) => value.replaceAll(new URL(proxy.url).host, 'proxy')) }
  }
  const off = await seenThrough(false)
  const on = await seenThrough(true)
  t.equal(on.url, off.url, 'the request target as it came')
  const pairs = (raw: string[]) => raw.flatMap((value, i) => (i % 2 === 0 ? [[value, raw[i + 1]!]] : []))
  const isTrace = ([name]: string[]) => /^trace(parent|state)$/i.test(name!)
  t.same(pairs(on.rawHeaders).filter((pair) => !isTrace(pair)), pairs(off.rawHeaders).filter((pair) => !isTrace(pair)), 'every other line the same, in order')
  t.same(pairs(off.rawHeaders).filter(isTrace), [['TraceParent', `00-${CLIENT_TRACE}-${CLIENT_PARENT}-01`], ['tracestate', 'vendor=opaque']], 'off: the client\'s own, untouched')
  const traced = pairs(on.rawHeaders).filter(isTrace)
  t.equal(traced.length, 2, 'on: one traceparent, one tracestate')
  t.match(traced[0], ['traceparent', new RegExp(`^00-${CLIENT_TRACE}-(?!${CLIENT_PARENT})[0-9a-f]{16}-01$`)], 'the client\'s trace, the proxy\'s span as parent')
  t.same(traced[1], ['tracestate', 'vendor=opaque'], 'the client\'s tracestate carried on')
  const legacySpan = receiver.spans().find((span) => span.kind === 3)
  t.equal(traced[0]![1]!.split('-')[2], legacySpan?.spanId, 'the parent is the exported legacy span')
})

t.test('a request sampled out records nothing, and its legacy call still carries the trace, marked unsampled', async (t) => {
  const upstream = await startEchoUpstream()
  t.teardown(() => upstream.close())
  const receiver = await startReceiver()
  t.teardown(receiver.close)
  const agent = new Agent()
  t.teardown(() => agent.close())
  const events = new EventBus()
  const overrides = { legacyUrl: upstream.url, tracing: { exporter: 'otlp', endpoint: receiver.url, sampler: 'always_off' } }
  const traces = startTracing(loadConfig({ env: { FASTPATH_ENV: 'test' }, overrides }).tracing, events)!
  const proxy = await proxyFor(t, overrides, { events, tracing: traces })
  const res = await request(`${proxy.url}/api/apotheken/7`, { dispatcher: agent, headers: { traceparent: `00-${CLIENT_TRACE}-${CLIENT_PARENT}-01` } })
  await res.body.arrayBuffer()
  await proxy.shutdown()
  await traces.shutdown()
  const raw = upstream.seen.at(-1)!.rawHeaders
  const sent = raw[raw.findIndex((name) => name.toLowerCase() === 'traceparent') + 1]!
  t.match(sent, new RegExp(`^00-${CLIENT_TRACE}-[0-9a-f]{16}-00$`), 'the client\'s trace id, the sampled flag off')
  t.equal(receiver.bodies.length, 0, 'nothing exported')
})
