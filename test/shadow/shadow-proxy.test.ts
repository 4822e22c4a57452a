// Shadow mode end to end with the legacy simulator as the legacy: the client gets the legacy's
// bytes, the seeded data compares 100 % `match`, another `environment` is a `mismatch` with a usable
// record, a row changed between the two reads is a `race`, a failing legacy (500, 401 to verified
// credentials) is a `legacy-error` that never demotes, on/canary answers are sampled, and a
// mismatch switches the route off on two instances sharing Redis.
import t from 'tap'
import { createHash } from 'node:crypto'
import pg from 'pg'
import { request } from 'undici'
import { basic, comparable, get, itemsOf, setTransferDirectly, toggleCandidates } from '../cache/cache-instances.ts'
import { send as toSim } from '../routes/v2-rezept-list/comparison-fixture.ts'
import { authorizationFor, FAST_PATH_CASES } from '../routes/v2-rezept-list/cases.ts'
import { startFaultyLegacy } from '../faults/faulty-legacy.ts'
import { needsRedis } from '../../dev/services.ts'
import type { MismatchRecord } from '../../proxy/shadow/mismatch-record.ts'
import { compared, startInstallation, startShadowInstance, waitFor, type Installation } from './shadow-fixture.ts'

const KLEIN = basic('arz-klein', 'klein-Geheim2')
const SHADOW = { flags: 'v2.rezept.list=shadow,v2.rezept.pharmacy=shadow' }

const skip = needsRedis()
if (skip.skip !== undefined) t.plan(0, skip.skip)
else await run()

async function run(): Promise<void> {
  const installation: Installation = await startInstallation(t, 't_shadow_e2e_')

  t.test('in shadow the client gets the legacy\'s answer and every seeded comparison is a match', async (t) => {
    const { proxy, events } = await startShadowInstance(t, installation, SHADOW)
    const cases = FAST_PATH_CASES.filter((c) => c.expect === 'same')
    t.ok(cases.length >= 100, `${cases.length} requests`)
    for (const c of cases) {
      const headers = authorizationFor(c)
      const before = compared(events).length
      const res = await request(proxy.url + c.rawUrl, { headers })
      const body = Buffer.from(await res.body.arrayBuffer())
      const direct = await toSim(installation.sim.port, 'GET', c.rawUrl, headers)
      await waitFor(`the comparison of ${c.name}`, () => compared(events).length > before)
      const outcome = compared(events).at(-1)!
      if (res.statusCode !== direct.status || res.headers['content-type'] !== direct.contentType || comparable(body) !== comparable(direct.body) ||
        !String(res.headers['server-timing']).startsWith('legacy') || outcome.outcome !== 'match') {
        t.fail(`${c.name}: status ${res.statusCode}/${direct.status}, outcome ${outcome.outcome}, served ${String(res.headers['server-timing'])}`)
      }
    }
    const outcomes = compared(events).map((e) => e.outcome)
    t.equal(outcomes.length, cases.length, 'one comparison per request')
    t.equal(outcomes.filter((o) => o === 'match').length, cases.length, '100 % match')
    t.ok(compared(events).every((e) => e.legacyMs > 0 && e.fastMs > 0), 'both latencies are measured')
    const mismatches = await fetch(`${proxy.adminUrl}/shadow/mismatches`)
    t.same(await mismatches.json(), [], 'no mismatch records')
    t.equal(events.filter((e) => e.type === 'route.demoted').length, 0, 'nothing demoted')
  })

  t.test('a deferral in shadow is skipped, not compared', async (t) => {
    const { proxy, events } = await startShadowInstance(t, installation, SHADOW)
    const res = await get(proxy.url, '/v2/rezept?page=0', KLEIN)
    t.equal(res.status, 500, 'the legacy\'s answer')
    await waitFor('the comparison', () => compared(events).length === 1)
    t.equal(compared(events)[0]!.outcome, 'skipped')
    t.equal(events.filter((e) => e.type === 'fast.deferred').length, 1, 'the deferral is reported once')
  })

  t.test('a legacy answer over the body cap is passed on whole and its comparison skipped', async (t) => {
    const { proxy, events } = await startShadowInstance(t, installation, { ...SHADOW, 'shadow.bodyCapBytes': 1000 })
    const res = await get(proxy.url, '/v2/rezept?pageSize=50', KLEIN)
    const direct = await toSim(installation.sim.port, 'GET', '/v2/rezept?pageSize=50', { authorization: KLEIN })
    t.ok(res.body.length > 1000, `${res.body.length} bytes, over the cap`)
    t.equal(comparable(res.body), comparable(direct.body), 'the client got the whole answer')
    await waitFor('the comparison', () => compared(events).length === 1)
    t.equal(compared(events)[0]!.outcome, 'skipped')
  })

  t.test('another environment string is a mismatch with a usable record, and the route is demoted', async (t) => {
    const admin = { authorization: 'Bearer s3cret' }
    const { proxy, events } = await startShadowInstance(t, installation, { ...SHADOW, environment: 'Staging', 'admin.token': 's3cret' })
    const target = '/v2/rezept?type=eMuster16&pageSize=3'
    const res = await get(proxy.url, target, KLEIN)
    t.equal(res.status, 200)
    t.match(JSON.parse(res.body.toString()), { environment: 'Test' }, 'the client got the legacy\'s environment')
    await waitFor('the comparison', () => compared(events).length === 1)
    t.equal(compared(events)[0]!.outcome, 'mismatch')

    t.equal((await fetch(`${proxy.adminUrl}/shadow/mismatches`)).status, 401, 'the list needs the admin token')
    const listed = (await (await fetch(`${proxy.adminUrl}/shadow/mismatches`, { headers: admin })).json()) as MismatchRecord[]
    t.equal(listed.length, 1)
    const record = listed[0]!
    t.match(record, { routeId: 'v2.rezept.list', outcome: 'mismatch', kind: 'shadow', user: 'arz-klein', flag: 'shadow' })
    t.same(record.differences, [{ path: '$.environment', legacy: '"Test"', fast: '"Staging"' }], 'the differing path with both values')
    t.match(record.firstDifference, { class: 'body', member: '$.environment', offset: res.body.indexOf('"environment":"') + 15 }, 'the first differing byte, located')
    t.match(record.firstDifference.legacy, /"aaaaaaaaaaa":"Aaaa","aaaaaaaa/, 'with a masked context')
    t.equal(record.differencesTotal, 1)
    t.equal(record.legacy.sha256, createHash('sha256').update(res.body).digest('hex'), 'the captured legacy answer is the client\'s bytes')
    t.equal(record.legacy.length, res.body.length)
    t.equal(record.legacy.status, 200)
    t.equal(record.fast.status, 200)
    t.ok(record.legacy.ms > 0 && record.fast.ms > 0, 'both latencies')
    t.equal(record.bodies, undefined, 'no bodies by default')
    t.equal(record.curl, `curl -sS -i --path-as-is '${installation.sim.url.replace(/\/$/, '')}${target}' -u 'arz-klein'`, 'a curl line without credentials')
    const text = JSON.stringify(record)
    t.notOk(text.includes('klein-Geheim2'), 'never the password')
    t.notOk(/authorization/i.test(text), 'no Authorization header')

    t.equal(proxy.flags.get('v2.rezept.list').mode, 'off', 'any mismatch demotes the route by default')
    const flag = (await (await fetch(`${proxy.adminUrl}/flags/v2.rezept.list`, { headers: admin })).json()) as { mode: string; demotion: { reason: string } }
    t.equal(flag.mode, 'off')
    t.match(flag.demotion.reason, /1 mismatch in the last 1 comparisons/, 'GET /flags/{id} says why')
    t.same(events.filter((e) => e.type === 'route.demoted'), [{ type: 'route.demoted', routeId: 'v2.rezept.list', reason: flag.demotion.reason }])
  })

  t.test('full bodies are kept only when enabled, and the NDJSON file gets the record', async (t) => {
    const dir = t.testdir({})
    const file = `${dir}/mismatches.ndjson`
    const { proxy, events } = await startShadowInstance(t, installation, {
      ...SHADOW, environment: 'Staging', 'shadow.mismatches.fullBodies': true, 'shadow.mismatches.file': file, 'shadow.demotion.enabled': false,
    })
    const res = await get(proxy.url, '/v2/rezept/status?pageSize=2', KLEIN)
    await waitFor('the comparison', () => compared(events).length === 1)
    const [record] = proxy.shadowComparison.log.list()
    t.equal(record!.bodies!.legacy, res.body.toString('utf8'), 'the legacy body as the client got it')
    t.match(record!.bodies!.fast, /"environment":"Staging"/)
    await proxy.shadowComparison.log.flushed()
    const { readFile } = await import('node:fs/promises')
    const lines = (await readFile(file, 'utf8')).trim().split('\n')
    t.equal(lines.length, 1)
    t.equal((JSON.parse(lines[0]!) as MismatchRecord).id, record!.id)
    t.equal(proxy.flags.get('v2.rezept.pharmacy').mode, 'shadow', 'demotion switched off: the route stays')
  })

  t.test('a row changed between the legacy\'s read and the fast read is a race, not a mismatch', async (t) => {
    const instance = await startShadowInstance(t, installation, SHADOW)
    const { proxy, events } = instance
    const direct = new pg.Client({ connectionString: installation.kleinUrl })
    await direct.connect()
    t.teardown(() => direct.end())
    const target = '/v2/rezept?type=E-Rezept&pageSize=500'
    const listed = itemsOf((await get(installation.sim.url.replace(/\/$/, ''), target, KLEIN)).body)
    const [item] = await toggleCandidates(installation.kleinUrl, listed)
    t.ok(item, 'a prescription whose daten row is its only one')
    const before = compared(events).length
    // Deterministic order: the legacy answers first, then the row changes, then the fast path reads.
    let clientDone!: () => void
    const answered = new Promise<void>((resolve) => (clientDone = resolve))
    instance.gate = async () => {
      await answered
      await setTransferDirectly(direct, item!, true)
    }
    t.teardown(() => setTransferDirectly(direct, item!, false))
    const res = await get(proxy.url, target, KLEIN)
    t.ok(itemsOf(res.body).some((i) => i.rezeptUuid === item!.rezeptUuid), 'the client saw the prescription (the legacy read before the change)')
    clientDone()
    await waitFor('the comparison', () => compared(events).length > before)
    t.equal(compared(events).at(-1)!.outcome, 'race')
    const [record] = proxy.shadowComparison.log.list()
    t.match(record, { outcome: 'race', user: 'arz-klein' })
    t.ok(record!.differences.some((d) => d.path.startsWith('$.prescriptions') || d.path === '$.totalCount'), 'the record names what moved')
    t.equal(proxy.flags.get('v2.rezept.list').mode, 'shadow', 'a race does not demote')
  })

  t.test('a legacy answering 500 is a legacy-error: counted apart, not listed, and out of the demotion window', async (t) => {
    const faulty = await startFaultyLegacy(installation.sim.url.replace(/\/$/, ''))
    t.teardown(() => faulty.close())
    const { proxy, events } = await startShadowInstance(t, installation, { ...SHADOW, legacyUrl: faulty.url, environment: 'Staging' })
    faulty.mode = 'fail-500'
    for (let i = 1; i <= 3; i++) {
      const res = await get(proxy.url, `/v2/rezept?pageSize=2&page=${i}`, KLEIN)
      t.equal(res.status, 500, 'the client gets the legacy\'s 500')
    }
    await waitFor('three comparisons', () => compared(events).length === 3)
    t.same(compared(events).map((e) => e.outcome), ['legacy-error', 'legacy-error', 'legacy-error'], 'the fast answer differs, but the legacy failed')
    t.same(proxy.shadowComparison.log.list(), [], '/shadow/mismatches does not list them')
    t.equal(proxy.flags.get('v2.rezept.list').mode, 'shadow', 'no demotion')
    const metrics = await (await fetch(`${proxy.adminUrl}/metrics`)).text()
    t.match(metrics, /fastpath_shadow_comparisons_total\{[^}]*outcome="legacy-error"[^}]*\} 3/, 'counted under their own outcome')

    // The window holds only the fast path's own comparisons: one real mismatch is "1 in 1".
    faulty.mode = 'pass'
    await get(proxy.url, '/v2/rezept?pageSize=2', KLEIN)
    await waitFor('the demotion', () => proxy.flags.get('v2.rezept.list').mode === 'off')
    const demoted = events.find((e) => e.type === 'route.demoted')
    t.match(demoted, { reason: /^1 mismatch in the last 1 comparisons/ }, 'the legacy-errors were not in the window')
  })

  t.test('a legacy refusing credentials the fast path verified (401) is a legacy-error, in shadow and sampled', async (t) => {
    const faulty = await startFaultyLegacy(installation.sim.url.replace(/\/$/, ''))
    t.teardown(() => faulty.close())
    const shadowed = await startShadowInstance(t, installation, { ...SHADOW, legacyUrl: faulty.url })
    faulty.mode = 'refuse-401'
    const res = await get(shadowed.proxy.url, '/v2/rezept/status?pageSize=2', KLEIN)
    t.equal(res.status, 401, 'the client gets the legacy\'s refusal')
    await waitFor('the comparison', () => compared(shadowed.events).length === 1)
    t.equal(compared(shadowed.events)[0]!.outcome, 'legacy-error')
    t.equal(shadowed.proxy.flags.get('v2.rezept.pharmacy').mode, 'shadow', 'no demotion')

    const sampled = await startShadowInstance(t, installation, { flags: 'v2.rezept.list=on', 'shadow.samplePercent': 100, legacyUrl: faulty.url })
    const fast = await get(sampled.proxy.url, '/v2/rezept?pageSize=2', KLEIN)
    t.equal(fast.servedBy, 'fast', 'on: the fast answer went to the client')
    await waitFor('the sampled comparison', () => compared(sampled.events).length === 1)
    t.equal(compared(sampled.events)[0]!.outcome, 'legacy-error')
    t.equal(sampled.proxy.flags.get('v2.rezept.list').mode, 'on', 'the route stays on')
    t.same(sampled.proxy.shadowComparison.log.list(), [])
  })

  t.test('fast answers of an on route are sampled against the legacy in the background', async (t) => {
    const { proxy, events } = await startShadowInstance(t, installation, { flags: 'v2.rezept.list=on', 'shadow.samplePercent': 100 })
    for (let i = 1; i <= 3; i++) {
      const res = await get(proxy.url, `/v2/rezept?pageSize=4&page=${i}`, KLEIN)
      t.equal(res.servedBy, 'fast', 'the client got the fast answer')
    }
    await waitFor('three comparisons', () => compared(events).length === 3)
    t.same(compared(events).map((e) => e.outcome), ['match', 'match', 'match'])

    const off = await startShadowInstance(t, installation, { flags: 'v2.rezept.list=on', 'shadow.samplePercent': 0 })
    await get(off.proxy.url, '/v2/rezept?pageSize=4', KLEIN)
    await off.proxy.shadowComparison.comparator.settled()
    t.equal(compared(off.events).length, 0, 'a sample of 0 % checks nothing')
  })

  t.test('sampled checks are capped per second: the background load on the legacy stays bounded', async (t) => {
    // 0.01 per second: the bucket's burst (5) and then nothing for the rest of the test.
    const { proxy, events } = await startShadowInstance(t, installation, { flags: 'v2.rezept.list=on', 'shadow.samplePercent': 100, 'shadow.sampleMaxPerSecond': 0.01 })
    for (let i = 1; i <= 8; i++) t.equal((await get(proxy.url, `/v2/rezept?pageSize=3&page=${i}`, KLEIN)).servedBy, 'fast')
    await proxy.shadowComparison.comparator.settled()
    t.equal(compared(events).length, 5, 'five of eight fast answers checked')
  })

  t.test('a sampled mismatch on an on route is recorded as a sample and demotes the route', async (t) => {
    const { proxy, events } = await startShadowInstance(t, installation, { flags: 'v2.rezept.list=on', 'shadow.samplePercent': 100, environment: 'Live' })
    const res = await get(proxy.url, '/v2/rezept?pageSize=2', KLEIN)
    t.match(JSON.parse(res.body.toString()), { environment: 'Live' }, 'the fast answer went to the client')
    await waitFor('the comparison', () => compared(events).length === 1)
    t.match(proxy.shadowComparison.log.list()[0], { kind: 'sample', outcome: 'mismatch', flag: 'on' })
    t.equal(proxy.flags.get('v2.rezept.list').mode, 'off')
  })

  t.test('a demotion on one instance switches the route off on the other', async (t) => {
    const redisKeyPrefix = `${installation.shared.redisKeyPrefix as string}pair:`
    const a = await startShadowInstance(t, installation, { ...SHADOW, environment: 'Staging', redisKeyPrefix })
    const b = await startShadowInstance(t, installation, { ...SHADOW, redisKeyPrefix })
    await fetch(`${a.proxy.adminUrl}/flags/v2.rezept.list`, { method: 'PUT', body: '{"mode":"shadow"}' })
    await waitFor('b in shadow', () => b.proxy.flags.get('v2.rezept.list').mode === 'shadow')
    await get(a.proxy.url, '/v2/rezept?pageSize=3', KLEIN)
    await waitFor('the demotion on a', () => a.proxy.flags.get('v2.rezept.list').mode === 'off')
    await waitFor('the demotion reaching b', () => b.proxy.flags.get('v2.rezept.list').mode === 'off', 1000)
    const onB = (await (await fetch(`${b.proxy.adminUrl}/flags/v2.rezept.list`)).json()) as { mode: string; demotion?: { reason: string } }
    t.equal(onB.mode, 'off')
    t.match(onB.demotion?.reason, /mismatch/, 'the other instance can say why too')
    t.equal(a.events.filter((e) => e.type === 'route.demoted').length, 1, 'the instance that demoted reports it once')
    t.equal(b.events.filter((e) => e.type === 'route.demoted').length, 0)
    t.ok(b.events.some((e) => e.type === 'flag.changed' && e.to === 'off'), 'b logged the change')
    const direct = await get(b.proxy.url, '/v2/rezept?pageSize=3', KLEIN)
    t.equal(direct.servedBy, 'legacy')

    // An operator re-enables explicitly, and the reason goes with it.
    await fetch(`${b.proxy.adminUrl}/flags/v2.rezept.list`, { method: 'PUT', body: '{"mode":"shadow"}' })
    await waitFor('a re-enabled', () => a.proxy.flags.get('v2.rezept.list').mode === 'shadow', 1000)
    t.same(await (await fetch(`${a.proxy.adminUrl}/flags/v2.rezept.list`)).json(), { mode: 'shadow' }, 'no demotion reason once re-enabled')
  })
}
