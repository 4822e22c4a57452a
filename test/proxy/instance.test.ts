// proxy/instance.ts, the one way npm start, the benchmark, the comparison and the fuzz run start a
// proxy: it learns the legacy's settings, hands the proxy everything the fast paths offer (a write
// answered voids the cache, the metric sources reach /metrics, the shared credential check), and its
// close() drains the proxy before it closes the fast paths, leaving nothing open behind it.
import t from 'tap'
import { Agent, request } from 'undici'
import { loadConfig } from '../../config/load.ts'
import { EventBus, type ProxyEvent } from '../../core/events.ts'
import { startLegacySim } from '../../legacy-sim/server.ts'
import { startInstance } from '../../proxy/instance.ts'
import { seed } from '../../sql/seed/seed.ts'
import { databaseUrl, pgAdminUrl } from '../../dev/services.ts'

const KLEIN = `Basic ${Buffer.from('arz-klein:klein-Geheim2').toString('base64')}`
const LIST = '/v2/rezept?pageSize=50'

const report = await seed({ adminUrl: pgAdminUrl(), prefix: 't_instance_', rows: 300, kleinRows: 300 })
const arzswUrl = databaseUrl(report.databases.arzsw)
const sim = await startLegacySim({ arzswUrl, port: 0 })
t.teardown(() => sim.close())

const configOf = (more: Record<string, unknown> = {}) => loadConfig({
  env: { FASTPATH_ENV: 'test' },
  overrides: {
    legacyUrl: sim.url, arzswUrl, flags: 'v2.rezept.list=on', 'legacyProbe.login': 'arz-klein', 'legacyProbe.password': 'klein-Geheim2',
    // A long max-stale: only an invalidation can make a cached read miss.
    fastPath: { cache: { maxStaleMs: 600_000 } },
    ...more,
  },
})

async function send(agent: Agent, url: string, options: { method?: 'GET' | 'PATCH'; body?: unknown } = {}) {
  const res = await request(url, {
    dispatcher: agent, method: options.method ?? 'GET',
    headers: { authorization: KLEIN, 'content-type': 'application/json' },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  })
  const body = Buffer.from(await res.body.arrayBuffer())
  return { status: res.statusCode, servedBy: String(res.headers['server-timing'] ?? '').split(';')[0]!, body }
}

t.test('the instance learns the legacy\'s settings and wires what the fast paths offer into the proxy', async (t) => {
  const events = new EventBus()
  const seen: ProxyEvent[] = []
  events.on((event) => { if (event.type === 'cache.invalidated') seen.push(event) })
  const instance = await startInstance(configOf(), { events })
  t.teardown(instance.close)
  const agent = new Agent()
  t.teardown(() => agent.close())

  t.equal(instance.proxy.legacySettings().kind, 'learnt', 'the settings were read from the legacy by the probe user')
  t.equal(instance.proxy.config().maxPageSize, instance.config.maxPageSize, 'the proxy runs the learnt config')

  await send(agent, instance.proxy.url + LIST)
  t.equal((await send(agent, instance.proxy.url + LIST)).servedBy, 'cache', 'the second read comes from the cache')
  const item = (JSON.parse((await send(agent, sim.url + LIST)).body.toString('utf8')) as { prescriptions: { rezeptUuid: string; type: string }[] }).prescriptions[0]!
  const write = await send(agent, instance.proxy.url + '/v2/rezept/status', { method: 'PATCH', body: { updates: [{ rezeptUuid: item.rezeptUuid, type: item.type, transferArz: false }] } })
  t.ok(write.status >= 200 && write.status < 300, `the legacy carried out the write (${write.status})`)
  t.ok(seen.length > 0, 'writeAnswered reached the cache: it was voided')
  t.not((await send(agent, instance.proxy.url + LIST)).servedBy, 'cache', 'the read after the write is not the cached one')

  const metrics = await request(`${instance.proxy.adminUrl}/metrics`, { dispatcher: agent })
  const text = await metrics.body.text()
  t.equal(metrics.statusCode, 200)
  t.match(text, /^fastpath_pool_connections\{/m, 'the fast paths\' pools reach /metrics')
  t.match(text, /^fastpath_xml_memo_bytes /m, 'the fast paths\' XML memo reaches /metrics')
})

t.test('close() drains the proxy before it closes the fast paths, once, and leaves no handle open', async (t) => {
  const agent = new Agent()
  // What was open before the instance started (the simulator, tap, this agent): the same must be open after.
  const before = resources()
  let release: () => void = () => {}
  const held = new Promise<void>((resolve) => { release = resolve })
  let hold = true
  const instance = await startInstance(configOf({ fastPath: { cache: { routes: { 'v2.rezept.list': 'off' } } } }), {
    wrapFastPath: (path) => ({
      routeId: path.routeId,
      async handle(request, signal) {
        if (hold) {
          hold = false
          await held
        }
        return path.handle(request, signal)
      },
    }),
  })
  const inFlight = send(agent, instance.proxy.url + LIST)
  while (hold) await new Promise((resolve) => setTimeout(resolve, 5))
  let closed = false
  const closing = instance.close().then(() => { closed = true })
  t.equal(instance.close(), instance.close(), 'a second close() is the first one')
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.notOk(closed, 'close() waits for the request in flight')
  release()
  const answer = await inFlight
  t.equal(answer.status, 200, 'the request in flight was answered')
  t.equal(answer.servedBy, 'fast', 'by the fast path, its pools still open while the proxy drained')
  await closing
  t.ok(closed)
  await t.rejects(request(instance.proxy.url + LIST, { dispatcher: agent, headers: { authorization: KLEIN } }), 'the proxy no longer listens')
  await agent.close()
  // Sockets the peers close are gone a moment later; give them that moment.
  let after = resources()
  for (let i = 0; i < 40 && !sameResources(before, after); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    after = resources()
  }
  t.same(after, before, 'the same handles are open as before the instance started')
})

function resources(): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const name of process.getActiveResourcesInfo()) counts[name] = (counts[name] ?? 0) + 1
  delete counts.Timeout // tap's own and undici's timers come and go
  delete counts.TTYWrap
  return counts
}

function sameResources(a: Record<string, number>, b: Record<string, number>): boolean {
  return JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort())
}
