// The faults the other suites do not already inject (upstream-failure, fallback, redis-outage and
// shutdown tests cover legacy down/hanging/stalling/resetting, tenant database gone/locked/full,
// ArzSw gone, Redis lost): here the legacy answering 500s, the legacy down while the fast path keeps
// serving, every tenant connection killed (a database restart), a slow Redis, flag flips and reloads
// under load, and shutdown under writes. Each asserts: correct answers or a quick clear failure,
// recovery without help, and no write acknowledged that the legacy did not commit nor sent twice.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import pg from 'pg'
import { Redis } from 'ioredis'
import { request } from 'undici'
import { startLegacySim } from '../../legacy-sim/server.ts'
import { seed } from '../../sql/seed/seed.ts'
import { PRESCRIPTION_TYPES } from '../../sql/queries/prescription-types.ts'
import { databaseUrl, needsRedis, pgAdminUrl, redisUrl } from '../support/services.ts'
import { redisRelay, startTcpRelay } from '../support/tcp-relay.ts'
import { basic, comparable, get, itemsOf, send, sleep, startInstance, toggleCandidates } from '../cache/cache-instances.ts'

const KLEIN = basic('arz-klein', 'klein-Geheim2')

const skip = needsRedis()
if (skip.skip !== undefined) t.plan(0, skip.skip)
else await run()

async function run(): Promise<void> {
  const report = await seed({ adminUrl: pgAdminUrl(), prefix: 't_fault_', rows: 300, kleinRows: 1500 })
  const arzswUrl = databaseUrl(report.databases.arzsw)
  const kleinUrl = databaseUrl(report.databases.tenants.klein)
  const sim = await startLegacySim({ arzswUrl, port: 0 })
  t.teardown(() => sim.close())
  const prefix = `t_fault:${randomUUID().slice(0, 8)}:`
  t.teardown(async () => {
    const redis = new Redis(redisUrl())
    const keys = await redis.keys(`${prefix}*`)
    if (keys.length > 0) await redis.del(...keys)
    redis.disconnect()
  })
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
    const proxy = await startInstance(t, { ...base, legacyUrl: sim.url, redisKeyPrefix: `${prefix}flip:` })
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
    const modes = ['off', 'shadow', 'on', 'canary:50', 'on']
    for (let i = 0; i < 15; i++) {
      await request(`${proxy.proxy.adminUrl}/flags/v2.rezept.list`, { method: 'PUT', body: JSON.stringify({ mode: modes[i % modes.length]!.split(':')[0], ...(modes[i % modes.length]!.startsWith('canary') ? { percent: 50 } : {}) }), headers: { 'content-type': 'application/json' } }).then((r) => r.body.dump())
      if (i % 5 === 4) await proxy.proxy.reload()
      await sleep(60)
    }
    running = false
    await Promise.all(clients)
    t.equal(wrong, 0, `no wrong or failed answer in ${total}`)
    t.ok(paths.has('legacy') && (paths.has('fast') || paths.has('cache')), `both paths served (${[...paths].join(', ')})`)
  })

  await t.test('shutdown under writes: every acknowledged write is committed, none was sent twice', async (t) => {
    const front = await startTcpRelay(sim.port)
    t.teardown(() => front.cut())
    const proxy = await startInstance(t, { ...base, legacyUrl: `http://127.0.0.1:${front.port}`, redisKeyPrefix: `${prefix}term:` })
    const candidates = await toggleCandidates(kleinUrl, itemsOf((await get(sim.url, '/v2/rezept?pageSize=500', KLEIN)).body))
    const acknowledged: string[] = []
    let attempts = 0
    const writer = async (items: typeof candidates): Promise<void> => {
      for (const item of items) {
        attempts++
        const answer = await send(proxy.url, 'PATCH', '/v2/rezept/status', KLEIN, { updates: [{ rezeptUuid: item.rezeptUuid, type: item.type, transferArz: true }] }).catch(() => undefined)
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
}
