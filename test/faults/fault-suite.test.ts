// The fault suite (issue 9): each fault of docs/operations.md "Faults" injected on its own, and some
// together, against real proxies in front of the legacy simulator on a seeded installation. Each
// subtest asserts what that table promises: every answer is the legacy's bytes or a quick, clear
// failure (a status with X-Fastpath-Error), the proxy recovers without help once the fault is gone,
// and no write is acknowledged that the legacy did not commit, nor sent to it twice.
// Faults come from TCP relays (test/support/tcp-relay.ts) in front of Redis and of the proxy's own
// paths to PostgreSQL, and from a misbehaving HTTP front of the simulator (faulty-legacy.ts): the
// real servers are never touched. Quick form (~1 min on two cores): it runs in CI with every suite.
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import pg from 'pg'
import { Redis } from 'ioredis'
import { request } from 'undici'
import { startLegacySim } from '../../legacy-sim/server.ts'
import { seed } from '../../sql/seed/seed.ts'
import { PRESCRIPTION_TYPES } from '../../sql/queries/prescription-types.ts'
import { databaseUrl, needsRedis, pgAdminUrl, redisTestPrefix, redisUrl } from '../../dev/services.ts'
import { redisRelay, startTcpRelay, type TcpRelay } from '../support/tcp-relay.ts'
import { basic, comparable, get, itemsOf, send, sleep, startInstance, toggleCandidates, type Instance, type Item } from '../cache/cache-instances.ts'
import { execute } from '../routes/v2-rezept-list/arzsw-users.ts'
import { startFaultyLegacy } from './faulty-legacy.ts'

const KLEIN = basic('arz-klein', 'klein-Geheim2')
const MAIN = new URL('../../proxy/main.ts', import.meta.url).pathname
/** A role with a connection limit: the proxy reaches klein's database as it, so "out of connections" is real. */
const FEW = 't_fault_few'
const FEW_CONNECTIONS = 2
/** Only the fast path reads the tenant database: without the cache every request asks it. */
const NO_CACHE = { 'v2.rezept.list': 'off', 'v2.rezept.pharmacy': 'off' }

interface Exchanged {
  readonly status: number
  readonly error: string | undefined
  readonly servedBy: string
  readonly body: Buffer
  readonly ms: number
}

/** One request; a connection cut or a body cut short is an answer too (status 0 and the error). */
async function exchange(base: string, target: string, init: { method?: string; json?: unknown } = {}): Promise<Exchanged> {
  const started = performance.now()
  try {
    const res = await request(base + target, {
      method: (init.method ?? 'GET') as 'GET',
      headers: { authorization: KLEIN, ...(init.json === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }),
    })
    const body = Buffer.from(await res.body.arrayBuffer())
    const code = res.headers['x-fastpath-error']
    return { status: res.statusCode, error: typeof code === 'string' ? code : undefined, servedBy: String(res.headers['server-timing'] ?? '').split(';')[0]!, body, ms: performance.now() - started }
  } catch (error) {
    return { status: 0, error: (error as Error).message, servedBy: '', body: Buffer.alloc(0), ms: performance.now() - started }
  }
}

/** A relay that may be cut twice or restored twice without an error: teardown restores it for the next subtest. */
function switchable(relay: TcpRelay): { down(): Promise<void>; up(): Promise<void> } {
  let isDown = false
  return {
    async down() {
      if (!isDown) await relay.cut()
      isDown = true
    },
    async up() {
      if (isDown) await relay.restore()
      isDown = false
    },
  }
}

/** Redis behind a relay the subtest can cut and restore; cut again when the subtest ends. */
async function switchableRedis(t: Test): Promise<{ redis: TcpRelay & { readonly url: string }; redisLink: ReturnType<typeof switchable> }> {
  const redis = await redisRelay(redisUrl())
  const redisLink = switchable(redis)
  t.teardown(() => redisLink.down())
  return { redis, redisLink }
}

const skip = needsRedis()
if (skip.skip !== undefined) t.plan(0, skip.skip)
else await run()

async function run(): Promise<void> {
  const report = await seed({ adminUrl: pgAdminUrl(), prefix: 't_fault_', rows: 300, kleinRows: 1500 })
  const arzswUrl = databaseUrl(report.databases.arzsw)
  const kleinUrl = databaseUrl(report.databases.tenants.klein)
  const klein = report.databases.tenants.klein
  // The proxy's own ArzSw: a copy whose klein row leads through a relay, as the role with few
  // connections. The simulator keeps the direct paths, so its answers stay the truth to compare with
  // while the proxy's way to a database is cut or slowed (for the real legacy that database is
  // usually down too; then the legacy's own error is what passes through).
  const proxyArzsw = `${report.databases.arzsw}_proxy`
  await execute(pgAdminUrl(), `DROP DATABASE IF EXISTS ${proxyArzsw} WITH (FORCE)`)
  await execute(pgAdminUrl(), `CREATE DATABASE ${proxyArzsw} TEMPLATE ${report.databases.arzsw}`)
  t.teardown(() => execute(pgAdminUrl(), `DROP DATABASE IF EXISTS ${proxyArzsw} WITH (FORCE)`).catch(() => {}))
  const server = new URL(pgAdminUrl())
  const password = decodeURIComponent(server.password)
  await execute(pgAdminUrl(), `DO $$ BEGIN CREATE ROLE ${FEW} LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$`)
  await execute(pgAdminUrl(), `ALTER ROLE ${FEW} CONNECTION LIMIT ${FEW_CONNECTIONS}${password ? ` PASSWORD '${password.replaceAll("'", "''")}'` : ''}`)
  await execute(kleinUrl, `GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${FEW}`)
  const pgPort = Number(server.port || 5432)
  const tenantRelay = await startTcpRelay(pgPort, server.hostname)
  const arzswRelay = await startTcpRelay(pgPort, server.hostname)
  const tenantDb = switchable(tenantRelay)
  const arzswDb = switchable(arzswRelay)
  t.teardown(async () => {
    await tenantDb.down()
    await arzswDb.down()
  })
  const proxyArzswClient = new pg.Client({ connectionString: databaseUrl(proxyArzsw) })
  await proxyArzswClient.connect()
  const pointed = await proxyArzswClient.query(`UPDATE arzsw_datenbank SET datenbank_connection_string = $1 WHERE datenbank_connection_string LIKE $2`, [
    `Host=127.0.0.1;Port=${tenantRelay.port};Database=${klein};Username=${FEW}${password ? `;Password=${password}` : ''}`, `%Database=${klein};%`])
  await proxyArzswClient.end()
  if (pointed.rowCount !== 1) throw new Error(`expected klein's one ArzSw row, changed ${pointed.rowCount}`)
  const proxyArzswUrl = Object.assign(new URL(pgAdminUrl()), { hostname: '127.0.0.1', port: String(arzswRelay.port), pathname: `/${proxyArzsw}` }).toString()
  const sim = await startLegacySim({ arzswUrl, port: 0 })
  t.teardown(() => sim.close())
  const prefix = redisTestPrefix(t, 't_fault')
  const base = { arzswUrl, redisUrl: redisUrl(), redisKeyPrefix: prefix }

  await t.test('legacy answering 500: passed through unchanged, and the fast path is unaffected', async (t) => {
    const failing = http.createServer((req, res) => {
      req.resume()
      res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' })
      res.end('Internal server error occurred while retrieving new prescriptions')
    })
    await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve))
    t.teardown(() => failing.close())
    const proxy = await startInstance(t, { ...base, legacyUrl: `http://127.0.0.1:${(failing.address() as AddressInfo).port}`, redisKeyPrefix: `${prefix}500:` })
    const passed = await get(proxy.url, '/api/Apotheken', KLEIN)
    t.equal(passed.status, 500, 'the legacy\'s status')
    t.equal(passed.body.toString(), 'Internal server error occurred while retrieving new prescriptions', 'its body, byte for byte')
    t.equal(passed.servedBy, 'legacy')
    const fast = await get(proxy.url, '/v2/rezept?pageSize=5', KLEIN)
    t.equal(fast.status, 200, 'the fast path answers the poll from the database')
    t.equal(comparable(fast.body), comparable((await get(sim.url, '/v2/rezept?pageSize=5', KLEIN)).body), 'with the healthy legacy\'s bytes')
  })

  await t.test('legacy down: pass-through fails fast with 502, polls keep being answered by the fast path, recovery by itself', async (t) => {
    const front = await startTcpRelay(sim.port)
    const proxy = await startInstance(t, { ...base, legacyUrl: `http://127.0.0.1:${front.port}`, redisKeyPrefix: `${prefix}down:` })
    await front.cut()
    const started = performance.now()
    const passed = await get(proxy.url, '/api/Apotheken', KLEIN)
    t.equal(passed.status, 502, 'a 502 for the pass-through')
    t.ok(performance.now() - started < 2000, 'quickly')
    t.equal((await get(proxy.url, '/v2/rezept?pageSize=5', KLEIN)).status, 200, 'the poll is still answered')
    // The legacy back on the same port: the next pass-through works again.
    const back = http.createServer((req, res) => {
      req.resume()
      res.end('wieder da')
    })
    await new Promise<void>((resolve) => back.listen(front.port, '127.0.0.1', resolve))
    t.teardown(() => back.close())
    t.equal((await get(proxy.url, '/api/Apotheken', KLEIN)).body.toString(), 'wieder da', 'recovered without a restart')
  })

  await t.test('every tenant connection killed (a database restart): requests keep succeeding, the fast path resumes', async (t) => {
    const proxy = await startInstance(t, { ...base, legacyUrl: sim.url, redisKeyPrefix: `${prefix}restart:`, fastPath: { cache: { routes: { 'v2.rezept.list': 'off', 'v2.rezept.pharmacy': 'off' } } } })
    t.equal((await get(proxy.url, '/v2/rezept?pageSize=5', KLEIN)).servedBy, 'fast', 'fast before')
    // The truth first: the kill below also cuts the simulator's own connections to that database.
    const truth = comparable((await get(sim.url, '/v2/rezept?pageSize=5', KLEIN)).body)
    const admin = new pg.Client({ connectionString: pgAdminUrl() })
    await admin.connect()
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [report.databases.tenants.klein])
    await admin.end()
    const paths: string[] = []
    for (let i = 0; i < 20; i++) {
      const answer = await get(proxy.url, '/v2/rezept?pageSize=5', KLEIN)
      t.equal(answer.status, 200, `request ${i} answered`)
      t.equal(comparable(answer.body), truth, `request ${i} correct`)
      paths.push(answer.servedBy)
    }
    t.equal(paths.at(-1), 'fast', `the fast path serves again (${paths.join(' ')})`)
  })

  await t.test('Redis slower than its command timeout: no request fails', async (t) => {
    const slow = await redisRelay(redisUrl())
    t.teardown(() => slow.cut())
    const proxy = await startInstance(t, { ...base, legacyUrl: sim.url, redisUrl: slow.url, redisKeyPrefix: `${prefix}slow:` })
    await get(proxy.url, '/v2/rezept?pageSize=5', KLEIN)
    slow.delayMs = 300
    const truth = comparable((await get(sim.url, '/v2/rezept?pageSize=5', KLEIN)).body)
    for (let i = 0; i < 10; i++) {
      const answer = await get(proxy.url, '/v2/rezept?pageSize=5', KLEIN)
      t.equal(answer.status, 200)
      t.equal(comparable(answer.body), truth)
    }
    slow.delayMs = 0
  })

  await t.test('flag flips and config reloads under load: every answer is the legacy\'s bytes', async (t) => {
    // Each reload finds another config: the pharmacy route's flag and the upstream timeouts change.
    let reloads = 0
    const proxy = await startInstance(t, { ...base, legacyUrl: sim.url, redisKeyPrefix: `${prefix}flip:` }, () => (++reloads % 2
      ? { flags: 'v2.rezept.list=on,v2.rezept.pharmacy=off', 'upstream.headersTimeoutMs': 4000 }
      : { flags: 'v2.rezept.list=on,v2.rezept.pharmacy=on' }))
    const targets = ['/v2/rezept?pageSize=10', '/v2/rezept?type=eMuster16&pageSize=3', '/v2/rezept/status?pageSize=4', '/api/Apotheken']
    const truths = new Map<string, string>()
    for (const target of targets) {
      const answer = await get(sim.url, target, KLEIN)
      truths.set(target, target.startsWith('/api') ? answer.body.toString() : comparable(answer.body))
    }
    let running = true
    let wrong = 0
    let total = 0
    const paths = new Set<string>()
    const load = async (): Promise<void> => {
      for (let i = 0; running; i++) {
        const target = targets[i % targets.length]!
        const answer = await get(proxy.url, target, KLEIN)
        const text = target.startsWith('/api') ? answer.body.toString() : comparable(answer.body)
        if (answer.status !== 200 || text !== truths.get(target)) wrong++
        paths.add(answer.servedBy)
        total++
      }
    }
    const clients = [load(), load(), load()]
    const changed: string[] = []
    const modes = ['off', 'shadow', 'on', 'canary:50', 'on']
    for (let i = 0; i < 15; i++) {
      await request(`${proxy.proxy.adminUrl}/flags/v2.rezept.list`, { method: 'PUT', body: JSON.stringify({ mode: modes[i % modes.length]!.split(':')[0], ...(modes[i % modes.length]!.startsWith('canary') ? { percent: 50 } : {}) }), headers: { 'content-type': 'application/json' } }).then((r) => r.body.dump())
      if (i % 5 === 4) changed.push(...await proxy.proxy.reload('fault-suite'))
      await sleep(60)
    }
    running = false
    await Promise.all(clients)
    t.ok(changed.includes('flags') && changed.includes('upstream.headersTimeoutMs'), `the reloads changed the running config (${[...new Set(changed)].join(', ')})`)
    t.equal(wrong, 0, `no wrong or failed answer in ${total}`)
    t.ok(paths.has('legacy') && (paths.has('fast') || paths.has('cache')), `both paths served (${[...paths].join(', ')})`)
  })

  const truthOf = async (target: string): Promise<string> => comparable((await get(sim.url, target, KLEIN)).body)
  /** New prescriptions whose transfer flag one write moves, fresh from the legacy's current list. */
  const writable = async (count: number): Promise<Item[]> =>
    (await toggleCandidates(kleinUrl, itemsOf((await get(sim.url, '/v2/rezept?pageSize=500', KLEIN)).body))).slice(0, count)
  const markRead = (base: string, item: Item) =>
    exchange(base, '/v2/rezept/status', { method: 'PATCH', json: { updates: [{ rezeptUuid: item.rezeptUuid, type: item.type, transferArz: true }] } })
  const acknowledged = (answer: Exchanged) => answer.status === 200 && answer.body.toString().includes('"success":true')
  /** Whether the legacy committed the write: the prescription's transfer flag is set in the database. */
  const committed = async (item: Item): Promise<boolean> => {
    const client = new pg.Client({ connectionString: kleinUrl })
    await client.connect()
    try {
      const type = PRESCRIPTION_TYPES.find((p) => p.name === item.type)!
      return (await client.query(`SELECT transfer_arz FROM ${type.daten} WHERE rezept_uuid = $1`, [item.rezeptUuid])).rows[0]?.transfer_arz === true
    } finally {
      await client.end()
    }
  }
  /** Each acknowledged write is committed: names the ones that are not. */
  const notCommitted = async (acknowledged: readonly Item[]): Promise<string[]> =>
    (await Promise.all(acknowledged.map(async (item) => ((await committed(item)) ? undefined : item.rezeptUuid)))).filter((uuid) => uuid !== undefined)
  const LIST = '/v2/rezept?pageSize=5'

  await t.test('legacy slower than the headers timeout: 504 UPSTREAM_HEADERS_TIMEOUT at the timeout, a write is sent once and never retried, the fast path answers on, recovery by itself', async (t) => {
    const legacy = await startFaultyLegacy(sim.url)
    t.teardown(() => legacy.close())
    const proxy = await startInstance(t, { ...base, legacyUrl: legacy.url, redisKeyPrefix: `${prefix}legacy-slow:`, 'upstream.headersTimeoutMs': 300, 'upstream.bodyTimeoutMs': 300 })
    const [write, later] = await writable(2)
    legacy.mode = 'slow'
    // The legacy answers 1.2 s after the 300 ms timeout: room for a busy CI machine to be late.
    legacy.delayMs = 1500
    const read = await exchange(proxy.url, '/api/Apotheken')
    t.equal(read.status, 504, 'a pass-through read gets 504')
    t.equal(read.error, 'UPSTREAM_HEADERS_TIMEOUT')
    t.ok(read.ms < 1200, `at the timeout, not after the legacy (${read.ms.toFixed(0)} ms)`)
    const fast = await exchange(proxy.url, LIST)
    t.equal(fast.servedBy, 'fast', 'the poll is still answered by the fast path')
    t.equal(comparable(fast.body), await truthOf(LIST), 'with the legacy\'s bytes')
    const written = await exchange(proxy.url, '/v2/rezept/status', { method: 'PATCH', json: { updates: [{ rezeptUuid: write!.rezeptUuid, type: write!.type, transferArz: true }] } })
    t.equal(written.status, 504, 'the write is not acknowledged: 504, the outcome is the legacy\'s to tell')
    t.equal(written.error, 'UPSTREAM_HEADERS_TIMEOUT')
    await sleep(legacy.delayMs + 300)
    t.same(legacy.writes, ['PATCH /v2/rezept/status'], 'the legacy received the write once: no retry after the timeout')
    legacy.mode = 'pass'
    const back = await exchange(proxy.url, '/api/Apotheken')
    t.equal(back.status, 200, 'recovered without a restart')
    t.equal(back.body.toString(), (await get(sim.url, '/api/Apotheken', KLEIN)).body.toString(), 'the legacy\'s bytes')
    const ok = await markRead(proxy.url, later!)
    t.ok(acknowledged(ok), 'a write is acknowledged again')
    t.ok(await committed(later!), 'and the legacy committed it')
    t.equal(legacy.writes.length, 2, 'each write reached the legacy exactly once')
  })

  await t.test('legacy closing the connection mid-body: the client sees the answer cut, never a short body as whole; a write is not retried; recovery by itself', async (t) => {
    const legacy = await startFaultyLegacy(sim.url)
    t.teardown(() => legacy.close())
    const proxy = await startInstance(t, { ...base, legacyUrl: legacy.url, redisKeyPrefix: `${prefix}legacy-cut:` })
    const [write] = await writable(1)
    const whole = (await get(sim.url, '/api/Apotheken', KLEIN)).body.toString()
    legacy.mode = 'close-mid-body'
    const read = await exchange(proxy.url, '/api/Apotheken')
    t.equal(read.status, 0, `the client sees a broken answer (${read.error})`)
    const written = await markRead(proxy.url, write!)
    t.notOk(acknowledged(written), `the write is not acknowledged (${written.status || written.error})`)
    await sleep(200)
    t.same(legacy.writes, ['PATCH /v2/rezept/status'], 'the legacy received the write once: no retry after the cut')
    t.equal((await exchange(proxy.url, LIST)).servedBy, 'fast', 'the fast path is unaffected')
    legacy.mode = 'pass'
    const back = await exchange(proxy.url, '/api/Apotheken')
    t.equal(back.status, 200, 'recovered without a restart')
    t.equal(back.body.toString(), whole, 'the whole answer, byte for byte')
  })

  /**
   * An instance that reaches ArzSw and klein's database through the relays, without the cache. Its
   * pool stays within the role's connection limit (one request queries its types side by side).
   */
  const throughRelays = (t: Test, name: string, fastPath: { pool?: Record<string, unknown>; circuitBreaker?: Record<string, unknown>; userRowRefreshMs?: number }) =>
    startInstance(t, {
      ...base, arzswUrl: proxyArzswUrl, legacyUrl: sim.url, redisKeyPrefix: `${prefix}${name}:`,
      fastPath: { cache: { routes: NO_CACHE }, ...fastPath, pool: { maxSize: FEW_CONNECTIONS, ...fastPath.pool } },
    })

  /** Sends `count` polls one after the other; every one must be the legacy's bytes. */
  async function polls(t: Test, proxy: Instance, count: number, truth: string): Promise<Exchanged[]> {
    const answers: Exchanged[] = []
    for (let i = 0; i < count; i++) answers.push(await exchange(proxy.url, LIST))
    t.same(answers.filter((a) => a.status !== 200 || comparable(a.body) !== truth).map((a) => `${a.status} ${a.servedBy} ${a.error ?? ''}`), [], `all ${count} answers are the legacy's bytes`)
    return answers
  }

  /** Polls until the fast path answers again (the circuit's trial after openMs), at most `ms`. */
  async function fastAgain(proxy: Instance, ms: number): Promise<string[]> {
    const seen: string[] = []
    proxy.events.length = 0
    const deadline = performance.now() + ms
    while (performance.now() < deadline) {
      const answer = await exchange(proxy.url, LIST)
      seen.push(answer.servedBy)
      if (answer.servedBy === 'fast') break
      await sleep(100)
    }
    if (seen.at(-1) !== 'fast') seen.push('deferred:', ...new Set(proxy.events.map((e) => e.type === 'fast.deferred' ? `${e.reason} ${e.error?.message ?? ''}` : '')))
    return seen
  }

  await t.test('tenant database slow (network delay beyond the query budget): the legacy answers within the query budget, the fast path resumes when it is quick again', async (t) => {
    // Room for a connection per prescription type: a request's queries then all start at once on open
    // connections, and only the query budget (not the wait for a free connection) bounds them.
    await execute(pgAdminUrl(), `ALTER ROLE ${FEW} CONNECTION LIMIT 12`)
    t.teardown(() => execute(pgAdminUrl(), `ALTER ROLE ${FEW} CONNECTION LIMIT ${FEW_CONNECTIONS}`))
    const proxy = await throughRelays(t, 'db-slow', { pool: { maxSize: 8, connectTimeoutMs: 300, statementTimeoutMs: 250 }, circuitBreaker: { failureThreshold: 3, openMs: 500 } })
    const truth = await truthOf(LIST)
    t.equal((await exchange(proxy.url, LIST)).servedBy, 'fast', 'fast before')
    // 2 s a round trip: far beyond the 500 ms query budget (2 × statementTimeoutMs) and the connect
    // timeout, so a request that waited for the database is told apart even on a busy machine.
    tenantRelay.delayMs = 1000
    t.teardown(() => void (tenantRelay.delayMs = 0))
    proxy.events.length = 0
    const answers = await polls(t, proxy, 6, truth)
    t.same(answers.map((a) => a.servedBy), Array(6).fill('legacy'), 'each given to the legacy')
    const slowest = Math.max(...answers.map((a) => a.ms))
    t.ok(slowest < 1400, `none waited on the slow database beyond the budget (slowest ${slowest.toFixed(0)} ms; ${answers.map((a) => a.ms.toFixed(0)).join(', ')})`)
    const reasons = proxy.events.flatMap((e) => (e.type === 'fast.deferred' ? [e.reason] : []))
    t.same(reasons.slice(0, 3), ['db-timeout', 'db-timeout', 'db-timeout'], 'each a db-timeout (the query budget, then the connect timeout)')
    t.same(reasons.slice(3), ['circuit-open', 'circuit-open', 'circuit-open'], 'after three the circuit opens: the slow database is left alone')
    tenantRelay.delayMs = 0
    await sleep(550)
    const after = await fastAgain(proxy, 3000)
    t.equal(after.at(-1), 'fast', `the fast path serves again by itself (${after.join(' ')})`)
  })

  await t.test('tenant database out of connections (its role\'s limit reached): the legacy answers, the fast path resumes once connections are free', async (t) => {
    const proxy = await throughRelays(t, 'db-full', { pool: { connectTimeoutMs: 500, statementTimeoutMs: 1000 }, circuitBreaker: { failureThreshold: 2, openMs: 1500 } })
    const truth = await truthOf(LIST)
    t.equal((await exchange(proxy.url, LIST)).servedBy, 'fast', 'fast before')
    // Someone else takes every connection the role may have: the proxy's idle ones are ended first.
    const hogs: pg.Client[] = []
    t.teardown(() => Promise.all(hogs.map((h) => h.end().catch(() => {}))))
    const deadline = performance.now() + 5000
    while (hogs.length < FEW_CONNECTIONS && performance.now() < deadline) {
      await execute(pgAdminUrl(), 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1 AND application_name = $2', [FEW, 'arzti-fastpath'])
      const hog = new pg.Client({ host: server.hostname, port: pgPort, database: klein, user: FEW, ...(password ? { password } : {}) })
      hog.on('error', () => {})
      try {
        await hog.connect()
        hogs.push(hog)
      } catch {
        await sleep(50) // ended backends leave the count a moment later
      }
    }
    t.equal(hogs.length, FEW_CONNECTIONS, 'every connection of the role is taken')
    proxy.events.length = 0
    const answers = await polls(t, proxy, 5, truth)
    t.same(answers.map((a) => a.servedBy), Array(5).fill('legacy'), 'each given to the legacy')
    t.ok(Math.max(...answers.map((a) => a.ms)) < 1000, 'quickly: a refused connection is not waited on')
    const reasons = proxy.events.flatMap((e) => (e.type === 'fast.deferred' ? [e.reason] : []))
    t.same(reasons, ['db-error', 'db-error', 'circuit-open', 'circuit-open', 'circuit-open'], 'after two refusals the circuit opens: the database is left alone')
    await Promise.all(hogs.splice(0).map((h) => h.end()))
    await sleep(1550)
    const after = await fastAgain(proxy, 3000)
    t.equal(after.at(-1), 'fast', `the fast path serves again by itself (${after.join(' ')})`)
  })

  await t.test('ArzSw down: the legacy answers (the fast path cannot check the password), /readyz says arzsw, recovery by itself', async (t) => {
    const proxy = await throughRelays(t, 'arzsw-down', {})
    const truth = await truthOf(LIST)
    await arzswDb.down()
    t.teardown(() => arzswDb.up())
    const answers = await polls(t, proxy, 3, truth)
    t.same(answers.map((a) => a.servedBy), ['legacy', 'legacy', 'legacy'], 'each given to the legacy')
    t.ok(Math.max(...answers.map((a) => a.ms)) < 1000, 'quickly')
    const ready = await request(`${proxy.proxy.adminUrl}/readyz`)
    t.equal(ready.statusCode, 200, 'still ready: the legacy answers')
    t.match(await ready.body.json(), { ready: true, status: 'degraded', checks: { arzsw: false } }, '/readyz names ArzSw')
    await arzswDb.up()
    const after = await fastAgain(proxy, 3000)
    t.equal(after.at(-1), 'fast', `the fast path serves again by itself (${after.join(' ')})`)
    t.equal(comparable((await exchange(proxy.url, LIST)).body), truth, 'with the legacy\'s bytes')
  })

  await t.test('ArzSw slower than the query budget: the legacy answers within the budget, the fast path resumes when it is quick again', async (t) => {
    const proxy = await throughRelays(t, 'arzsw-slow-budget', { userRowRefreshMs: 1, pool: { connectTimeoutMs: 300, statementTimeoutMs: 250 } })
    const truth = await truthOf(LIST)
    t.equal((await exchange(proxy.url, LIST)).servedBy, 'fast', 'fast before')
    // 2 s a round trip: far beyond the 500 ms query budget (2 × statementTimeoutMs) and the connect timeout.
    arzswRelay.delayMs = 1000
    t.teardown(() => void (arzswRelay.delayMs = 0))
    proxy.events.length = 0
    const answers = await polls(t, proxy, 3, truth)
    t.same(answers.map((a) => a.servedBy), ['legacy', 'legacy', 'legacy'], 'each given to the legacy')
    const slowest = Math.max(...answers.map((a) => a.ms))
    t.ok(slowest < 1400, `none waited on ArzSw beyond the budget (slowest ${slowest.toFixed(0)} ms; ${answers.map((a) => a.ms.toFixed(0)).join(', ')})`)
    t.same([...new Set(proxy.events.flatMap((e) => (e.type === 'fast.deferred' ? [e.reason] : [])))], ['auth-unavailable'], 'deferred as auth-unavailable')
    arzswRelay.delayMs = 0
    const after = await fastAgain(proxy, 3000)
    t.equal(after.at(-1), 'fast', `the fast path serves again by itself (${after.join(' ')})`)
  })

  await t.test('ArzSw slow: answers stay correct, and a write through one instance is seen through another at once (its answer waits for the invalidation, which waits on ArzSw); sent once', async (t) => {
    const legacy = await startFaultyLegacy(sim.url)
    t.teardown(() => legacy.close())
    const shared = { ...base, legacyUrl: legacy.url, redisKeyPrefix: `${prefix}arzsw-slow:` }
    // A reads ArzSw (the real one: same tenant rows, same cache keys as B) through the relay, afresh
    // for every request; B directly, from its row cache.
    const slowArzsw = Object.assign(new URL(arzswUrl), { hostname: '127.0.0.1', port: String(arzswRelay.port) }).toString()
    const a = await startInstance(t, { ...shared, arzswUrl: slowArzsw, fastPath: { userRowRefreshMs: 1 } })
    const b = await startInstance(t, shared)
    const items = await writable(3)
    const LONG = '/v2/rezept?pageSize=500'
    await get(a.url, LONG, KLEIN)
    arzswRelay.delayMs = 100
    t.teardown(() => void (arzswRelay.delayMs = 0))
    const read = await exchange(a.url, LIST)
    t.equal(comparable(read.body), await truthOf(LIST), `a read through A is the legacy's bytes (${read.servedBy}, ${read.ms.toFixed(0)} ms)`)
    const stale: string[] = []
    for (const item of items) {
      t.equal((await exchange(b.url, LONG)).servedBy, 'cache', 'B holds the list in its cache before the write')
      t.ok(acknowledged(await markRead(a.url, item)), 'the write through A is acknowledged')
      const seen = await exchange(b.url, LONG)
      if (seen.body.includes(item.rezeptUuid)) stale.push(`${item.rezeptUuid} still listed by B (${seen.servedBy})`)
    }
    arzswRelay.delayMs = 0
    t.same(stale, [], 'every write was seen through B at once')
    t.same(await notCommitted(items), [], 'every acknowledged write is committed')
    t.equal(legacy.writes.length, items.length, 'the legacy received each write once')
  })

  await t.test('Redis down and restarted during reads and writes on two instances: no request fails, each write is read back, none is sent twice, Redis is used again', async (t) => {
    const { redis, redisLink } = await switchableRedis(t)
    const legacy = await startFaultyLegacy(sim.url)
    t.teardown(() => legacy.close())
    const shared = { ...base, legacyUrl: legacy.url, redisUrl: redis.url, redisKeyPrefix: `${prefix}redis-restart:` }
    const a = await startInstance(t, shared)
    const b = await startInstance(t, shared)
    const items = await writable(8)
    const LONG = '/v2/rezept?pageSize=500'
    let failed = 0
    let reads = 0
    let running = true
    const traffic = (async () => {
      for (let i = 0; running; i++) {
        const answer = await exchange(i % 2 ? a.url : b.url, i % 3 ? LIST : '/v2/rezept/status?pageSize=4')
        if (answer.status !== 200) failed++
        reads++
      }
    })()
    const writesAcknowledged: Item[] = []
    const stale: string[] = []
    const writeAndReadBack = async (writer: Instance, reader: Instance, item: Item) => {
      await get(reader.url, LONG, KLEIN) // the reader holds the list in its cache before the write
      const answer = await markRead(writer.url, item)
      if (acknowledged(answer)) writesAcknowledged.push(item)
      const seen = await exchange(reader.url, LONG)
      if (seen.body.includes(item.rezeptUuid)) stale.push(`${item.rezeptUuid} still listed by ${reader === a ? 'A' : 'B'} (${seen.servedBy})`)
    }
    await sleep(100)
    await redisLink.down()
    // Without Redis an instance's own writes still void its own cache before the client hears back.
    for (const item of items.slice(0, 4)) await writeAndReadBack(a, a, item)
    await redisLink.up()
    const deadline = performance.now() + 8000
    while (!(a.fast.metricSources?.redisUp?.() && b.fast.metricSources?.redisUp?.()) && performance.now() < deadline) await sleep(50)
    t.ok(a.fast.metricSources?.redisUp?.() && b.fast.metricSources?.redisUp?.(), 'both instances reconnected to Redis by themselves')
    await sleep(200)
    // With Redis back, and slow (30 ms each way, within the 100 ms command timeout), a write through A
    // is seen through B at once again: A's answer waits until Redis has the invalidation.
    redis.delayMs = 30
    for (const item of items.slice(4)) await writeAndReadBack(a, b, item)
    redis.delayMs = 0
    running = false
    await traffic
    t.equal(failed, 0, `no read failed (${reads} during the outage and after)`)
    t.same(stale, [], 'every write was read back at once')
    t.equal(writesAcknowledged.length, items.length, 'every write was acknowledged')
    t.same(await notCommitted(writesAcknowledged), [], 'every acknowledged write is committed')
    t.equal(legacy.writes.length, items.length, 'the legacy received each write once')
  })

  await t.test('Redis down when the proxy starts: it starts and serves on its configured flags, and uses Redis once it comes', async (t) => {
    const { redis, redisLink } = await switchableRedis(t)
    await redisLink.down()
    const started = performance.now()
    const proxy = await startInstance(t, { ...base, legacyUrl: sim.url, redisUrl: redis.url, redisKeyPrefix: `${prefix}start:`, 'limits.enabled': true })
    t.ok(performance.now() - started < 3000, `started without Redis (${(performance.now() - started).toFixed(0)} ms)`)
    const answer = await exchange(proxy.url, LIST)
    t.equal(answer.servedBy, 'fast', 'the configured flag holds')
    t.equal(comparable(answer.body), await truthOf(LIST), 'with the legacy\'s bytes')
    t.equal((await exchange(proxy.url, '/api/Apotheken')).status, 200, 'pass-through works (the limits decide locally)')
    await redisLink.up()
    const deadline = performance.now() + 8000
    while (!proxy.fast.metricSources?.redisUp?.() && performance.now() < deadline) await sleep(50)
    t.ok(proxy.fast.metricSources?.redisUp?.(), 'Redis is used once it comes, without a restart')
  })

  await t.test('combined: Redis and the tenant database down together, flags flipped and the config reloaded under load; every answer is the legacy\'s; all recovers by itself', async (t) => {
    const { redis, redisLink } = await switchableRedis(t)
    let reloads = 0
    const proxy = await startInstance(t, {
      ...base, arzswUrl: proxyArzswUrl, legacyUrl: sim.url, redisUrl: redis.url, redisKeyPrefix: `${prefix}combined:`,
      fastPath: { pool: { maxSize: FEW_CONNECTIONS, connectTimeoutMs: 300, statementTimeoutMs: 500 }, circuitBreaker: { failureThreshold: 2, openMs: 400 } },
    }, () => ({ flags: ++reloads % 2 ? 'v2.rezept.list=on,v2.rezept.pharmacy=off' : 'v2.rezept.list=on,v2.rezept.pharmacy=on' }))
    const targets = ['/v2/rezept?pageSize=10', '/v2/rezept/status?pageSize=4', '/v2/rezept?type=eMuster16&pageSize=3', '/api/Apotheken']
    const truths = new Map<string, string>()
    for (const target of targets) truths.set(target, target.startsWith('/api') ? (await get(sim.url, target, KLEIN)).body.toString() : await truthOf(target))
    const wrong: string[] = []
    let total = 0
    let running = true
    const load = async (offset: number): Promise<void> => {
      for (let i = offset; running; i++) {
        const target = targets[i % targets.length]!
        const answer = await exchange(proxy.url, target)
        const text = answer.status !== 200 ? '' : target.startsWith('/api') ? answer.body.toString() : comparable(answer.body)
        if (text !== truths.get(target)) wrong.push(`${target}: ${answer.status} ${answer.servedBy} ${answer.error ?? ''}`)
        total++
      }
    }
    const clients = [load(0), load(1), load(2)]
    await sleep(100)
    await redisLink.down()
    await tenantDb.down()
    t.teardown(() => tenantDb.up())
    const modes = [{ mode: 'off' }, { mode: 'shadow' }, { mode: 'on' }, { mode: 'canary', percent: 50 }, { mode: 'on' }]
    const propagated: boolean[] = []
    const adminMs: number[] = []
    for (let i = 0; i < 10; i++) {
      const started = performance.now()
      const put = await request(`${proxy.proxy.adminUrl}/flags/v2.rezept.list`, { method: 'PUT', body: JSON.stringify(modes[i % modes.length]), headers: { 'content-type': 'application/json' } })
      propagated.push(((await put.body.json()) as { propagated: boolean }).propagated)
      if (i % 4 === 3) await proxy.proxy.reload('fault-suite')
      adminMs.push(performance.now() - started)
      await sleep(50)
    }
    t.notOk(propagated.some(Boolean), 'flag changes apply here while Redis is away ("propagated": false)')
    t.ok(Math.max(...adminMs) < 500, `a PUT or reload does not wait for Redis (slowest ${Math.max(...adminMs).toFixed(0)} ms)`)
    t.equal(proxy.proxy.flags.get('v2.rezept.list').mode, 'on', 'the last change stands')
    await tenantDb.up()
    await redisLink.up()
    const deadline = performance.now() + 8000
    let paths = new Set<string>()
    while (performance.now() < deadline) {
      paths = new Set((await Promise.all([0, 1, 2].map(() => exchange(proxy.url, targets[0]!)))).map((a) => a.servedBy))
      if (!paths.has('legacy') && proxy.fast.metricSources?.redisUp?.()) break
      await sleep(150)
    }
    running = false
    await Promise.all(clients)
    t.same(wrong, [], `no wrong or failed answer in ${total}`)
    t.notOk(paths.has('legacy'), `the fast path (or its cache) answers again (${[...paths].join(', ')})`)
    t.ok(proxy.fast.metricSources?.redisUp?.(), 'Redis is used again')
    t.equal(proxy.proxy.flags.get('v2.rezept.list').mode, 'on', 'Redis stored the flag set during the outage instead of undoing it')
  })

  await t.test('shutdown under writes: every acknowledged write is committed, none was sent twice', async (t) => {
    const front = await startTcpRelay(sim.port)
    t.teardown(() => front.cut())
    const proxy = await startInstance(t, { ...base, legacyUrl: `http://127.0.0.1:${front.port}`, redisKeyPrefix: `${prefix}term:` })
    const candidates = await toggleCandidates(kleinUrl, itemsOf((await get(sim.url, '/v2/rezept?pageSize=500', KLEIN)).body))
    const acknowledged: string[] = []
    const cut: string[] = []
    let attempts = 0
    const writer = async (items: typeof candidates): Promise<void> => {
      for (const item of items) {
        attempts++
        const answer = await send(proxy.url, 'PATCH', '/v2/rezept/status', KLEIN, { updates: [{ rezeptUuid: item.rezeptUuid, type: item.type, transferArz: true }] }).catch((error: Error & { code?: string; cause?: { code?: string } }) => {
          // Refused at connect: the proxy no longer accepts. Anything else cut a request it had accepted.
          if ((error.code ?? error.cause?.code) !== 'ECONNREFUSED') cut.push(`${error.code ?? error.cause?.code ?? ''} ${error.message}`)
          return undefined
        })
        if (answer === undefined) return
        if (answer.status === 200 && answer.body.toString().includes('"success":true')) acknowledged.push(item.rezeptUuid)
        else if (answer.status >= 500) return
      }
    }
    const half = Math.floor(candidates.length / 2)
    const writing = Promise.all([writer(candidates.slice(0, half)), writer(candidates.slice(half))])
    await sleep(150)
    await proxy.proxy.shutdown()
    await writing
    t.same(cut, [], 'every write the proxy had accepted was answered: the shutdown drains, it does not cut')
    t.ok(acknowledged.length > 0, `some writes were acknowledged before the shutdown (${acknowledged.length} of ${attempts} attempted)`)
    const client = new pg.Client({ connectionString: kleinUrl })
    await client.connect()
    let committed = 0
    for (const uuid of acknowledged) {
      for (const type of PRESCRIPTION_TYPES) {
        const row = await client.query(`SELECT transfer_arz FROM ${type.daten} WHERE rezept_uuid = $1`, [uuid])
        if (row.rows[0]?.transfer_arz === true) committed++
      }
    }
    await client.end()
    t.equal(committed, acknowledged.length, 'every acknowledged write is in the database')
    // Not anchored to a line start: on a kept-alive connection a request line follows the last body directly.
    const forwarded = front.sent().match(/PATCH \/v2\/rezept\/status HTTP\/1\.1\r\n/g)?.length ?? 0
    t.ok(forwarded <= attempts, `the legacy received ${forwarded} writes for ${attempts} attempts: none twice`)
    t.ok(forwarded >= acknowledged.length, 'and every acknowledged one')
  })

  await t.test('SIGTERM to `npm start` under reads and writes: every request it accepted is answered, every acknowledged write is committed, none sent twice, exit 0', async (t) => {
    const legacy = await startFaultyLegacy(sim.url)
    t.teardown(() => legacy.close())
    const child = spawn(process.execPath, [MAIN], {
      env: {
        ...process.env, FASTPATH_ENV: 'test', LEGACY_URL: legacy.url, ARZSW_URL: arzswUrl, REDIS_URL: redisUrl(), REDIS_KEY_PREFIX: `${prefix}sigterm:`,
        FASTPATH_FLAGS: 'v2.rezept.list=on,v2.rezept.pharmacy=on', LOG_LEVEL: 'info', AUDIT_LOG: 'off',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    t.teardown(() => void (child.exitCode === null && child.kill('SIGKILL')))
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    const deadline = performance.now() + 20_000
    while (!output.includes('proxy listening') && child.exitCode === null && performance.now() < deadline) await sleep(50)
    const url = /"url":"([^"]+)"/.exec(output)?.[1]
    if (url === undefined) return void t.fail(`npm start did not come up: ${output.slice(-500)}`)
    const items = await writable(60)
    const cut: string[] = []
    const acknowledgedItems: Item[] = []
    let writesAnswered = 0
    let reads = 0
    let stopped = false
    const refusedOrCut = (answer: Exchanged): boolean => {
      if (answer.status !== 0) return false
      if (!/ECONNREFUSED/.test(answer.error ?? '')) cut.push(answer.error ?? '')
      stopped = true
      return true
    }
    const writer = async (mine: Item[]): Promise<void> => {
      for (const item of mine) {
        const answer = await markRead(url, item)
        if (refusedOrCut(answer)) return
        writesAnswered++
        if (acknowledged(answer)) acknowledgedItems.push(item)
      }
    }
    const reader = async (): Promise<void> => {
      while (!stopped) {
        const answer = await exchange(url, reads % 2 ? LIST : '/api/Apotheken')
        if (refusedOrCut(answer)) return
        if (answer.status !== 200) cut.push(`read answered ${answer.status}`)
        reads++
      }
    }
    await exchange(url, LIST) // warm: the first request opens the pools
    const half = items.length / 2
    const load = Promise.all([writer(items.slice(0, half)), writer(items.slice(half)), reader(), reader()])
    await sleep(500)
    child.kill('SIGTERM')
    const [code] = (await once(child, 'exit')) as [number | null]
    stopped = true
    await load
    t.equal(code, 0, 'npm start drained and exited 0')
    t.same(cut, [], 'no accepted request was cut or failed: later ones were refused at connect')
    t.ok(acknowledgedItems.length > 0 && reads > 0, `load was running (${acknowledgedItems.length} writes acknowledged, ${reads} reads)`)
    t.same(await notCommitted(acknowledgedItems), [], 'every acknowledged write is committed')
    t.equal(legacy.writes.length, writesAnswered, `the legacy received each answered write once (${legacy.writes.length}), and no other`)
  })
}
