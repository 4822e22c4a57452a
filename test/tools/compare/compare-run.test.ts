// `npm run compare` against real proxy instances (wired as `npm start` wires them, cache on, shared
// Redis) in front of the legacy simulator on seeded data: both paths measured, the seeded answers all
// equal; a proxy configured with another `environment` than the legacy is reported as mismatching, and
// a route the proxy demotes during the run is reported with its reason and left off.
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCompare } from '../../../tools/compare/compare-run.ts'
import { htmlReport } from '../../../tools/compare/html-report.ts'
import { pollingMix, readRequestFile } from '../../../tools/compare/request-list.ts'
import { summarize } from '../../../tools/compare/summary.ts'
import { terminalReport } from '../../../tools/compare/terminal-table.ts'
import { startLegacySim } from '../../../legacy-sim/server.ts'
import { seed } from '../../../sql/seed/seed.ts'
import { startInstance } from '../../cache/cache-instances.ts'
import { databaseUrl, needsRedis, pgAdminUrl, redisTestPrefix, redisUrl } from '../../../dev/services.ts'

const USERS = ['arz-gross:gross-Geheim1', 'arz-klein:klein-Geheim2']

const skip = needsRedis()
if (skip.skip !== undefined) t.plan(0, skip.skip)
else await run()

async function run(): Promise<void> {
  const report = await seed({ adminUrl: pgAdminUrl(), prefix: 't_cmp_run_', rows: 300, kleinRows: 300 })
  const arzswUrl = databaseUrl(report.databases.arzsw)
  const sim = await startLegacySim({ arzswUrl, port: 0 })
  t.teardown(() => sim.close())
  const prefix = redisTestPrefix(t, 't_cmp')
  const shared = { legacyUrl: sim.url, arzswUrl, redisUrl: redisUrl(), redisKeyPrefix: prefix, flags: 'v2.rezept.list=shadow,v2.rezept.pharmacy=off' }
  const out = mkdtempSync(join(tmpdir(), 't_cmp_'))
  t.teardown(() => rmSync(out, { recursive: true, force: true }))

  await t.test('seeded data: the legacy, fast and cache paths measured for both routes, every fast answer equal to the legacy\'s', async (t) => {
    const instance = await startInstance(t, shared)
    const result = await runCompare({ proxyUrl: instance.url, adminUrl: instance.proxy.adminUrl, requests: pollingMix(USERS), rounds: 2, cold: true, settleMs: 0 })
    t.equal(result.mode, 'flags')
    t.same(result.mismatches, [], 'no mismatch')
    const passes = (pass: string, path: string) => result.samples.filter((s) => s.pass === pass && s.path === path).length
    t.equal(passes('legacy', 'legacy'), 2 * 18, 'flag off: every answer from the legacy')
    t.equal(passes('cold', 'fast'), 2 * 18, 'cache voided before each round: every answer loaded by the fast path')
    t.ok(passes('warm', 'cache') >= 18, `warm: answers from the cache (${passes('warm', 'cache')} of 36)`)
    t.equal(result.compared, 72, 'every fast and cache answer compared')
    t.same(instance.proxy.flags.get('v2.rezept.list'), { mode: 'shadow' }, 'flags put back as they were')
    t.same(instance.proxy.flags.get('v2.rezept.pharmacy'), { mode: 'off' })

    const routes = summarize(result)
    t.same(routes.map((r) => r.route), ['v2.rezept.list', 'v2.rezept.pharmacy'])
    for (const route of routes) {
      t.same(Object.keys(route.paths).sort(), ['cache', 'fast', 'legacy'], `${route.route}: all three paths`)
      t.ok(route.speedup.fast !== undefined && route.speedup.cache !== undefined, `${route.route}: speedups`)
    }
    const table = terminalReport(result, routes)
    t.match(table, /v2\.rezept\.list\s+legacy\s+28\s/, 'terminal: 28 legacy answers on the list route (14 requests × 2)')
    t.match(table, /72 fast answers compared with the legacy's: all equal/)

    const html = htmlReport(result, routes)
    t.match(html, /All 72 fast answers equal the legacy's/)
    for (const path of ['legacy', 'fast', 'cache']) t.match(html, new RegExp(`</span>${path}</td>`), `HTML table row for ${path}`)
    t.equal(html.match(/<svg /g)?.length, 4, 'two charts per route, inline SVG')
    for (const svg of html.match(/<svg [\s\S]*?<\/svg>/g) ?? []) {
      const lastGrid = svg.lastIndexOf('class="grid"')
      t.ok(lastGrid < svg.indexOf('<text') && lastGrid < svg.search(/<rect|<polyline/), 'gridlines are drawn first: no gridline over a label, bar or curve')
    }
    t.notMatch(html, /\.NET service/, 'the legend does not claim the upstream is the .NET service (the demo\'s is the simulator)')
    t.match(htmlReport(result, routes, 'ArzTi3Server <staging>'), /legacy \(ArzTi3Server &#60;staging&#62;\)/, 'the legend names the upstream as --legacy-name says, escaped')
    t.notMatch(html, /<script|<link|src=|href=|url\(|@import/, 'self-contained: no script, no external file')
  })

  await t.test('a proxy configured with another `environment` than the legacy: every fast answer reported as a mismatch at $.environment', async (t) => {
    const wrong = await startInstance(t, { ...shared, environment: 'Live' })
    const requests = pollingMix(USERS.slice(0, 1))
    const result = await runCompare({ proxyUrl: wrong.url, adminUrl: wrong.proxy.adminUrl, requests, rounds: 1, cold: false, settleMs: 0 })
    t.equal(result.compared, 9)
    t.equal(result.mismatches.length, 9, 'each one counted')
    t.same(result.mismatches[0]!.differences, [{ path: '$.environment', legacy: '"Development"', fast: '"Live"' }])
    const routes = summarize(result)
    t.equal(routes.find((r) => r.route === 'v2.rezept.list')!.mismatches, 7)
    t.match(terminalReport(result, routes), /9 fast answers compared with the legacy's: 9 MISMATCHES[\s\S]*\$\.environment: legacy "Development"  fast "Live"/)
    const html = htmlReport(result, routes)
    t.match(html, /9 of 9 fast answers differ from the legacy's/)
    t.match(html, /<h2 class="bad">Mismatches<\/h2>[\s\S]*\$\.environment/)
  })

  await t.test('a route the proxy demotes during the run is reported with the reason and the records\' classes, and left off', async (t) => {
    // Its own Redis prefix: the demotion is stored there and must not reach the other tests' instances.
    const instance = await startInstance(t, { ...shared, redisKeyPrefix: `${prefix}demoted:`, environment: 'Live', 'shadow.samplePercent': 100 })
    const lines: string[] = []
    const result = await runCompare({ proxyUrl: instance.url, adminUrl: instance.proxy.adminUrl, requests: pollingMix(USERS.slice(0, 1)), rounds: 1, cold: false, settleMs: 20_000, log: (line) => lines.push(line) })
    const list = result.demotions?.find((d) => d.route === 'v2.rezept.list')
    t.ok(list, 'the list route was demoted during the run')
    t.match(list, { reason: /^1 mismatch in the last 1 comparisons/, classes: { body: Number }, member: '$.environment' })
    t.equal(instance.proxy.flags.get('v2.rezept.list').mode, 'off', 'left off, not put back to shadow')
    const routes = summarize(result)
    t.match(terminalReport(result, routes), /DEMOTED during the run: v2\.rezept\.list at \S+: 1 mismatch in the last 1 comparisons[^\n]*records: body ×\d+ \(first at \$\.environment\)/)
    t.match(htmlReport(result, routes), /<p class="bad">DEMOTED during the run: v2\.rezept\.list/)
    t.ok(lines.some((line) => /v2\.rezept\.list was demoted by the proxy during the run/.test(line)), 'said while running too')

    const observed = await runCompare({ proxyUrl: instance.url, requests: pollingMix(USERS.slice(0, 1)).slice(0, 1), rounds: 1, cold: false })
    t.equal(observed.demotions, undefined)
    t.match(terminalReport(observed, summarize(observed)), /no --admin: whether the proxy demoted a route during the run is not known/)
  })

  await t.test('a request file with PATCH /v2/rezept/statusuuid reads: replayed with their bodies, every fast answer equal to the legacy\'s', async (t) => {
    const instance = await startInstance(t, { ...shared, redisKeyPrefix: `${prefix}statusuuid:` })
    const list = await fetch(`${sim.url}/v2/rezept?pageSize=3`, { headers: { authorization: `Basic ${Buffer.from(USERS[1]!).toString('base64')}` } })
    const found = ((await list.json()) as { prescriptions: Array<{ rezeptUuid: string }> }).prescriptions.map((p) => p.rezeptUuid)
    const file = join(out, 'statusuuid-requests.json')
    writeFileSync(file, JSON.stringify({ requests: [
      { method: 'PATCH', target: '/v2/rezept/statusuuid', body: { rezeptUuids: [...found, 'missing', found[0]] } },
      { method: 'PATCH', target: '/v2/rezept/statusuuid', body: '{ "rezeptUuids" : [ "a" , "a" ] }' },
      { method: 'PATCH', target: '/v2/rezept/statusuuid', body: {} },
    ] }))
    const requests = readRequestFile(file, USERS[1])
    t.same(requests.map((r) => r.route), ['v2.rezept.statusuuid', 'v2.rezept.statusuuid', 'v2.rezept.statusuuid'])
    t.throws(() => {
      writeFileSync(file, JSON.stringify([{ method: 'PATCH', target: '/v2/rezept/status', body: {} }]))
      readRequestFile(file, USERS[1])
    }, /only GETs and the PATCH reads/, 'a write is refused: a compare run repeats every request')
    const result = await runCompare({ proxyUrl: instance.url, adminUrl: instance.proxy.adminUrl, requests, rounds: 2, cold: true, settleMs: 0 })
    t.same(result.mismatches, [], 'no mismatch')
    t.ok(result.samples.filter((s) => s.path === 'fast').length >= 6, 'answered fast when on')
    t.equal(result.compared, result.samples.filter((s) => s.path !== 'legacy').length, 'every fast answer compared')
  })

  await t.test('without an admin URL the flags are left alone and each answer is filed under its Server-Timing path', async (t) => {
    // Its own Redis prefix: the flags the other tests' instances stored in Redis would win over its config.
    const instance = await startInstance(t, { ...shared, redisKeyPrefix: `${prefix}observed:`, flags: 'v2.rezept.list=on,v2.rezept.pharmacy=off' })
    const result = await runCompare({ proxyUrl: instance.url, requests: pollingMix(USERS.slice(1)), rounds: 2, cold: true })
    t.equal(result.mode, 'observed')
    const routes = summarize(result)
    t.same(Object.keys(routes.find((r) => r.route === 'v2.rezept.pharmacy')!.paths), ['legacy'], 'pharmacy route off: legacy only')
    t.notOk(routes.find((r) => r.route === 'v2.rezept.list')!.paths.legacy, 'list route on: no legacy answer')
    t.equal(result.uncompared, 14, 'fast answers without a legacy answer to compare with are counted, not called equal')
  })

  await t.test('the command: `npm run compare -- --proxy --admin --user --out` writes report.html and report.json and exits 0; usage errors exit 2', async (t) => {
    const instance = await startInstance(t, shared)
    const args = ['tools/compare/main.ts', '--proxy', instance.url, '--admin', instance.proxy.adminUrl, '--user', USERS[1]!, '--rounds', '1', '--out', out]
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
      child.stdout.resume()
      child.stderr.resume()
      child.on('exit', resolve)
    })
    t.equal(code, 0)
    t.ok(existsSync(join(out, 'report.html')))
    const json = readFileSync(join(out, 'report.json'), 'utf8')
    t.notMatch(json, /Geheim/, 'no password in report.json')
    t.equal(JSON.parse(json).mismatches.length, 0)
    const usage = spawnSync(process.execPath, ['tools/compare/main.ts', '--rounds', 'x'], { encoding: 'utf8' })
    t.equal(usage.status, 2)
    t.match(usage.stderr, /--rounds must be an integer/)
  })

  const chromium = spawnSync('chromium', ['--version'], { encoding: 'utf8' })
  const noChromium = chromium.status === 0 ? {} : { skip: 'no chromium on this machine (Debian package: chromium)' }
  await t.test('headless Chromium renders the report to a PNG (docs/compare/report.png is made this way)', noChromium, async (t) => {
    const png = join(out, 'report.png')
    const shot = spawnSync('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', `--screenshot=${png}`, '--window-size=1280,1600', `file://${join(out, 'report.html')}`], { encoding: 'utf8', timeout: 120_000 })
    t.equal(shot.status, 0, 'chromium exits 0', { stderr: shot.stderr.slice(-500) })
    const bytes = readFileSync(png)
    t.same([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG')
    t.equal(bytes.readUInt32BE(16), 1280, '1280 px wide')
  })
}
