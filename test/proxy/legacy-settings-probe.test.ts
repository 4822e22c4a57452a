// With a probe user configured, the proxy reads the legacy's MaxPageSize, Environment and avsSystem
// (the real simulator here) and answers with them; values set in its configuration are assertions,
// refused at start when they differ. Without a probe user and without all of them set, on and canary
// are refused (issue 17).
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { ConfigError, loadConfig } from '../../config/load.ts'
import { startProxy } from '../../proxy/app.ts'
import { startInstance } from '../../proxy/instance.ts'
import { learnLegacySettings } from '../../proxy/legacy-settings-probe.ts'
import { startLegacySim } from '../../legacy-sim/server.ts'
import { seed } from '../../sql/seed/seed.ts'
import { randomUUID } from 'node:crypto'
import { databaseUrl, deleteRedisKeys, needsRedis, pgAdminUrl, redisUrl } from '../../dev/services.ts'
import type { Logger } from 'pino'

const report = await seed({ adminUrl: pgAdminUrl(), prefix: 't_probe_', rows: 300, kleinRows: 300 })
const arzswUrl = databaseUrl(report.databases.arzsw)
const sim = await startLegacySim({ arzswUrl, port: 0, maxPageSize: 700, environment: 'Staging' })
t.teardown(() => sim.close())
const PROBE = { 'legacyProbe.login': 'arz-klein', 'legacyProbe.password': 'klein-Geheim2' }
const MATCHING = { legacyUrl: sim.url, maxPageSize: 700, environment: 'Staging', ...PROBE }
/** The answer-shaping settings left unset (config/test.json sets them to the simulator's defaults). */
const UNSET = { maxPageSize: null, environment: null, 'avsSystem.manufacturer': null, 'avsSystem.name': null, 'avsSystem.version': null }
const KLEIN = `Basic ${Buffer.from('arz-klein:klein-Geheim2').toString('base64')}`
const stamps = (text: string) => text.replace(/"\d{4}-[^"]*Z"/g, '"<now>"')

/** Starts a proxy with the test config plus overrides; what it logged at info and warn level. */
async function start(t: Test, overrides: Record<string, unknown>): Promise<{ logged: string[] }> {
  const logged: string[] = []
  const record = (object: unknown, message?: string) => void logged.push(`${message ?? ''} ${JSON.stringify(object)}`)
  const logger = { info: record, warn: record, error: record, debug: () => {}, child: () => logger } as unknown as Logger
  const proxy = await startProxy(loadConfig({ env: { FASTPATH_ENV: 'test' }, overrides }), { logger })
  t.teardown(() => proxy.shutdown())
  return { logged }
}

t.test('settings equal to the legacy\'s: the proxy starts and says what it learnt', async (t) => {
  const { logged } = await start(t, MATCHING)
  t.ok(logged.some((line) => line.includes('legacy settings learnt') && line.includes('avsSystem') && line.includes('maxPageSize') && line.includes('environment')), logged.join('\n'))
})

t.test('NODE_ENV=production with a probe user in front of a legacy with other settings: every fast answer equals the legacy\'s', async (t) => {
  const config = loadConfig({
    env: { FASTPATH_ENV: 'production' },
    overrides: { ...PROBE, legacyUrl: sim.url, arzswUrl, host: '127.0.0.1', port: 0, 'admin.host': '127.0.0.1', 'admin.port': 0, logLevel: 'silent', 'audit.destination': 'off', 'limits.enabled': false, 'shadow.samplePercent': 0, flags: 'v2.rezept.list=on,v2.rezept.pharmacy=on' },
  })
  t.same(config.answerSettingsSet, [], 'config/production.json sets none of them: nothing invented')
  // Started as npm start starts it (proxy/instance.ts): the settings probe first, the fast paths built on what it learnt.
  const instance = await startInstance(config)
  t.teardown(instance.close)
  const proxy = instance.proxy
  t.same([proxy.legacySettings().kind, instance.config.maxPageSize, instance.config.environment], ['learnt', 700, 'Staging'], 'the legacy\'s values are learnt')
  for (const target of ['/v2/rezept?pageSize=5000', '/v2/rezept?pageSize=3', '/v2/rezept?type=unknown-type&pageSize=900', '/v2/rezept/status?pageSize=2000']) {
    const answer = await fetch(proxy.url + target, { headers: { authorization: KLEIN } })
    t.match(answer.headers.get('server-timing'), /^(fast|cache);dur=/, `${target}: a fast answer`)
    const legacy = await fetch(sim.url + target, { headers: { authorization: KLEIN } })
    t.equal(stamps(await answer.text()), stamps(await legacy.text()), `${target}: the legacy's bytes`)
  }
})

t.test('without a probe user and without the settings set: on and canary are refused, saying why; off and shadow are not', async (t) => {
  const overrides = { ...UNSET, legacyUrl: sim.url, 'legacyProbe.login': undefined }
  const proxy = await startProxy(loadConfig({ env: { FASTPATH_ENV: 'test' }, overrides }))
  t.teardown(() => proxy.shutdown())
  t.equal(proxy.legacySettings().kind, 'unknown')
  for (const body of ['{"mode":"on"}', '{"mode":"canary","percent":10}']) {
    const put = await fetch(`${proxy.adminUrl}/flags/v2.rezept.list`, { method: 'PUT', body })
    t.equal(put.status, 409, `${body}: refused`)
    t.match((await put.json() as { error: string }).error, /refused: the proxy does not know the legacy's maxPageSize, environment, avsSystem.*no probe user.*LEGACY_PROBE_LOGIN.*set maxPageSize, environment and avsSystem\.\* explicitly/, 'the message names the missing probe and the way out')
  }
  t.equal(proxy.flags.get('v2.rezept.list').mode, 'off', 'the flag did not change')
  const shadow = await fetch(`${proxy.adminUrl}/flags/v2.rezept.list`, { method: 'PUT', body: '{"mode":"shadow"}' })
  t.equal(shadow.status, 200, 'shadow is accepted')
  const atStart = await startProxy(loadConfig({ env: { FASTPATH_ENV: 'test' }, overrides: { ...overrides, flags: 'v2.rezept.list=on' } })).then((p) => p.shutdown(), (e: unknown) => e)
  t.ok(atStart instanceof ConfigError, 'FASTPATH_FLAGS/config asking for on: the start is refused (exit 2)')
  t.match((atStart as Error).message, /v2\.rezept\.list: mode "on" refused.*LEGACY_PROBE_LOGIN/)
})

t.test('a difference stops the start with a ConfigError naming the setting and both values', async (t) => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['environment', { environment: 'Live' }, /environment: the legacy says "Staging", this proxy's configuration "Live"/],
    ['maxPageSize above', { maxPageSize: 1000 }, /maxPageSize: the legacy says 700, this proxy's configuration 1000/],
    ['maxPageSize below', { maxPageSize: 500 }, /maxPageSize: the legacy says 700, this proxy's configuration 500/],
    ['avsSystem', { 'avsSystem.version': '3.1' }, /avsSystem\.version: the legacy says "3\.0", this proxy's configuration "3\.1"/],
  ]
  for (const [name, change, message] of cases) {
    const error = await startProxy(loadConfig({ env: { FASTPATH_ENV: 'test' }, overrides: { ...MATCHING, ...change } })).then(
      async (proxy) => {
        await proxy.shutdown()
        return undefined
      },
      (e: unknown) => e,
    )
    t.ok(error instanceof ConfigError, `${name}: refused`)
    t.match((error as Error | undefined)?.message, message, name)
  }
})

t.test('a legacy that cannot be asked does not stop the start; it is logged', async (t) => {
  const wrong = await start(t, { ...MATCHING, 'legacyProbe.password': 'falsch' })
  t.ok(wrong.logged.some((line) => line.includes('not read from the legacy') && line.includes('401')), 'a refused probe user: said, with the status')
  const down = await start(t, { ...MATCHING, legacyUrl: 'http://127.0.0.1:9', 'upstream.headersTimeoutMs': 2000 })
  t.ok(down.logged.some((line) => line.includes('not read from the legacy') && line.includes('did not answer')), 'a legacy that is down: said')
  const unknown = await start(t, { ...MATCHING, ...UNSET, 'legacyProbe.password': 'falsch' })
  t.ok(unknown.logged.some((line) => line.includes('legacy settings unknown') && line.includes('401')), 'nothing set and nothing learnt: warned that fast paths stay off or shadow')
  const noProbe = await start(t, { ...MATCHING, 'legacyProbe.login': undefined, environment: 'Live' })
  t.ok(noProbe.logged.some((line) => line.includes('not read from the legacy') && line.includes('no probe user')), 'without a probe user nothing is asked, and it says so')
})

t.test('on every reload the settings are read again: a legacy answering now unlocks on; changed settings send on/canary to shadow until a restart', async (t) => {
  const defaults = await startLegacySim({ arzswUrl, port: 0 })
  t.teardown(() => defaults.close())
  // The legacy as the proxy sees it: down, then a legacy with the code's defaults, then one with others.
  let current: string | undefined
  const front = http.createServer((req, res) => {
    if (current === undefined) return void res.writeHead(503).end()
    fetch(current + req.url, { headers: { authorization: req.headers.authorization ?? '' } }).then(async (answer) => {
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain' }).end(Buffer.from(await answer.arrayBuffer()))
    }, () => res.writeHead(502).end())
  })
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => front.close(() => resolve())))
  const read = () => loadConfig({ env: { FASTPATH_ENV: 'test' }, overrides: { ...UNSET, ...PROBE, legacyUrl: `http://127.0.0.1:${(front.address() as AddressInfo).port}` } })
  const proxy = await startProxy(read(), { reloadConfig: read })
  t.teardown(() => proxy.shutdown())
  const put = (mode: string) => fetch(`${proxy.adminUrl}/flags/v2.rezept.list`, { method: 'PUT', body: JSON.stringify({ mode }) })

  t.equal(proxy.legacySettings().kind, 'unknown', 'the legacy could not be asked at start')
  t.equal((await put('on')).status, 409, 'so on is refused')

  current = defaults.url
  await proxy.reload('test')
  t.equal(proxy.legacySettings().kind, 'learnt', 'the reload read them: the values in use are the legacy\'s')
  t.equal((await put('on')).status, 200, 'on is accepted now')

  current = undefined
  await proxy.reload('test')
  t.same([proxy.legacySettings().kind, proxy.flags.get('v2.rezept.list').mode], ['learnt', 'on'], 'a legacy down at a reload says nothing about a change: on stays')

  current = sim.url
  await proxy.reload('test')
  t.equal(proxy.flags.get('v2.rezept.list').mode, 'shadow', 'the legacy\'s settings changed: the route went to shadow')
  const refused = await put('canary:10')
  t.equal(refused.status, 409)
  t.match((await refused.json() as { error: string }).error, /maxPageSize 700, environment "Staging".*restart the proxy/, 'and says what changed and what to do')
})

t.test('a peer\'s on (through Redis) is taken as shadow by an instance that does not know the legacy\'s settings', needsRedis(), async (t) => {
  const prefix = `t_probe_peer:${randomUUID()}:`
  t.teardown(() => deleteRedisKeys(prefix))
  const shared = { legacyUrl: sim.url, redisUrl: redisUrl(), redisKeyPrefix: prefix, flagRefreshMs: 200 }
  const knows = await startProxy(loadConfig({ env: { FASTPATH_ENV: 'test' }, overrides: { ...shared, ...MATCHING } }))
  t.teardown(() => knows.shutdown())
  const guesses = await startProxy(loadConfig({ env: { FASTPATH_ENV: 'test' }, overrides: { ...shared, ...UNSET, 'legacyProbe.login': undefined } }))
  t.teardown(() => guesses.shutdown())
  t.equal((await fetch(`${knows.adminUrl}/flags/v2.rezept.list`, { method: 'PUT', body: '{"mode":"on"}' })).status, 200)
  const started = performance.now()
  while (guesses.flags.get('v2.rezept.list').mode === 'off' && performance.now() - started < 3000) await new Promise((r) => setTimeout(r, 20))
  t.equal(knows.flags.get('v2.rezept.list').mode, 'on', 'the instance that learnt the settings answers fast')
  t.equal(guesses.flags.get('v2.rezept.list').mode, 'shadow', 'the one that does not runs the fast path in shadow only')
})

t.test('settings learnt at start stay in use when the legacy is down at a reload: no false "changed"', async (t) => {
  let up = true
  const front = http.createServer((req, res) => {
    if (!up) return void res.writeHead(503).end()
    fetch(sim.url + req.url, { headers: { authorization: req.headers.authorization ?? '' } }).then(async (answer) => {
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(Buffer.from(await answer.arrayBuffer()))
    }, () => res.writeHead(502).end())
  })
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => front.close(() => resolve())))
  const read = () => loadConfig({ env: { FASTPATH_ENV: 'test' }, overrides: { ...UNSET, ...PROBE, legacyUrl: `http://127.0.0.1:${(front.address() as AddressInfo).port}`, flags: 'v2.rezept.list=on' } })
  const learnt = await learnLegacySettings(read(), undefined)
  t.equal(learnt.config.maxPageSize, 700, 'learnt at start: 700, not the default 500')
  const proxy = await startProxy(learnt.config, { reloadConfig: read, legacySettings: learnt.source })
  t.teardown(() => proxy.shutdown())
  up = false
  await proxy.reload('test')
  t.same([proxy.legacySettings().kind, proxy.flags.get('v2.rezept.list').mode], ['learnt', 'on'], 'nothing was read, so nothing changed: on stays')
  t.equal(proxy.config().maxPageSize, 700, 'and the learnt values stay in use')
})
