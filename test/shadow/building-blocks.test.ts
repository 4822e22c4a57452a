// The shadow comparison's parts on their own: blanking and JSON-path differences, the mismatch
// record's curl line and login, the demotion window, the mismatch ring and NDJSON rotation, the
// legacy reader, and a legacy answer that breaks off mid-body.
import t from 'tap'
import http from 'node:http'
import { readdir, readFile, stat, utimes } from 'node:fs/promises'
import { blankBody, differences, sameAnswer, sameBlanked, sameBodies } from '../../proxy/shadow/answer-comparison.ts'
import { DemotionWindow, p99 } from '../../proxy/shadow/demotion-window.ts'
import { firstDifference, mask, memberAt } from '../../proxy/shadow/first-difference.ts'
import { LegacyReader } from '../../proxy/shadow/legacy-reader.ts'
import { MismatchLog } from '../../proxy/shadow/mismatch-log.ts'
import { curlLine, loginOf, type MismatchRecord } from '../../proxy/shadow/mismatch-record.ts'
import { listen } from '../../proxy/listen.ts'
import { proxyFor } from '../proxy/support/proxy-under-test.ts'
import { stubFastPath } from '../proxy/support/stub-fast-paths.ts'
import { rawExchange } from '../proxy/support/raw-exchange.ts'
import type { ProxyEvent } from '../../core/events.ts'
import { waitFor } from './shadow-fixture.ts'

const JSON_TYPE = 'application/json; charset=utf-8'
const side = (body: string, status = 200, contentType: string | undefined = JSON_TYPE) => ({ status, contentType, body: Buffer.from(body) })
const list = (env: string, stamp: string, extra = '') =>
  `{"prescriptions":[{"type":"eMuster16","id":1,"muster16Id":12345678901234567${extra},"deliveryTimestamp":"${stamp}"}],"totalCount":1,"environment":"${env}","responseTimestamp":"${stamp}"}`

t.test('answers that differ only in the volatile timestamps are the same', async (t) => {
  t.ok(sameAnswer(side(list('Test', '2025-01-01T00:00:00Z')), side(list('Test', '2026-11-23T14:00:00.1234567Z'))))
  t.notOk(sameAnswer(side(list('Test', 'x')), side(list('Test', 'x'), 200, 'text/plain')), 'Content-Type counts')
  t.notOk(sameAnswer(side(''), side('', 401)), 'status counts')
  t.ok(sameAnswer(side('', 401, undefined), side('', 401, undefined)), 'bodies without timestamps compare byte for byte')
  t.notOk(sameAnswer(side('{"responseTimestamp":"a"}'), side('"text"')), 'a timestamped body never equals an untimestamped one')
  // A key is a key by position only: the same text inside a string value is data.
  const inValue = (v: string) => `{"prescriptions":[],"note":"\\"responseTimestamp\\":\\"${v}\\"","responseTimestamp":"t"}`
  t.notOk(sameAnswer(side(inValue('1')), side(inValue('2'))), 'timestamp-like text in a value is compared')
})

t.test('the in-place comparison gives the verdict of comparing blanked copies, pair by pair', async (t) => {
  const stamps = ['2025-01-01T00:00:00Z', '2026-11-23T14:00:00.1234567Z', '2026-11-23T14:00:00.5Z', 'x']
  const bodies = [
    ...stamps.flatMap((s) => [list('Test', s), list('Test', s, ',"extra":1'), list('Live', s)]),
    `{"prescriptions":[],"responseTimestamp":"${stamps[1]}"}`, '{"prescriptions":[],"responseTimestamp":"a"} ', '"text"', '', '{"a":1}',
    `{"prescriptions":[{"deliveryTimestamp":"a"},{"deliveryTimestamp":"b"}],"responseTimestamp":"c"}`,
    `{"prescriptions":[{"deliveryTimestamp":"a"}],"x":{},"responseTimestamp":"c"}`,
  ]
  let pairs = 0
  let equal = 0
  for (const a of bodies) {
    for (const b of bodies) {
      const [x, y] = [Buffer.from(a), Buffer.from(b)]
      const expected = sameBlanked(blankBody(x), blankBody(y))
      if (sameBodies(x, y) !== expected) t.fail(`${a} vs ${b}: expected ${expected}`)
      pairs++
      if (expected) equal++
    }
  }
  t.ok(equal > bodies.length && equal < pairs, `both verdicts occur (${equal} equal of ${pairs} pairs)`)
})

t.test('differences name JSON paths with both values, truncated', async (t) => {
  const d = differences(side(list('Test', 'a')), side(list('Staging', 'b')), 120, 20)
  t.same(d, { list: [{ path: '$.environment', legacy: '"Test"', fast: '"Staging"' }], total: 1 })
  const long = differences(side(list('T'.repeat(300), 'a')), side(list('S', 'a')), 10, 20)
  t.equal(long.list[0]!.legacy, '"TTTTTTTTT…(302 chars)')
  const status = differences(side('', 401, 'text/plain'), side('{"a":1}', 200, JSON_TYPE), 50, 20)
  t.same(status.list.map((x) => x.path), ['status', 'content-type', '$ (byte 0)'], 'status, type, then the bytes of a non-JSON body')
  t.equal(status.list[2]!.legacy, '(end)')
  const shape = differences(side('{"a":[1,2],"b":{"x":1,"y":2},"c":1}'), side('{"a":[1],"b":{"y":2,"x":1},"d":1}'), 50, 20)
  t.same(shape.list.map((x) => x.path), ['$.a[1]', '$.b (member order)', '$.c', '$.d'])
  t.same(differences(side('{"a":[1]}'), side('{"a":[1,3]}'), 50, 20).list, [{ path: '$.a[1]', legacy: '(absent)', fast: '3' }])
  const capped = differences(side('{"a":1,"b":1,"c":1}'), side('{"a":2,"b":2,"c":2}'), 50, 2)
  t.equal(capped.list.length, 2, 'at most maxPaths listed')
  t.equal(capped.total, 3, 'but all counted')
  // 12345678901234567 and ...568 are the same double: the parse hides it, the bytes do not.
  const big = differences(side(list('T', 'a')), side(list('T', 'a').replace('12345678901234567', '12345678901234568')), 20, 20)
  t.equal(big.list.length, 1)
  t.match(big.list[0]!.path, /^\$ \(byte \d+\)$/)
  t.equal(big.list[0]!.legacy.slice(0, 1), '7')
})

t.test('the first difference is classed (escaping, status row, timestamp, …), located, and its context masked', async (t) => {
  const stamp = '2026-12-03T10:00:00.1234567Z'
  const item = (xml: string, level: string, itemStamp = stamp) =>
    `{"prescriptions":[{"type":"eMuster16","id":1,"xmlRequest":"${xml}","checkLevel":"${level}","deliveryTimestamp":"${itemStamp}"}],"totalCount":1,"environment":"Test","responseTimestamp":"${stamp}"}`
  const xml = firstDifference(side(item('<?xml version=\\"1.0\\"?><Name>Müller</Name>', 'NEU')), side(item('\\u003C?xml version=\\"1.0\\"?><Name>Müller</Name>', 'NEU')))
  t.match(xml, { class: 'escaping', member: '$.prescriptions[0].xmlRequest' }, 'the legacy writes < raw, the fast path escapes it')
  t.equal(xml.offset, item('', 'NEU').indexOf('"xmlRequest":"') + 14, 'the offset of the first differing byte')
  t.match(xml.legacy, /"<\?aaa aaaaaaa=\\"0\.0\\"\?><Aaaa>Aaaaaa/, 'context with letters and digits masked, punctuation kept')
  t.match(xml.fast, /"\\u003C\?aaa/, 'an escape stays readable')
  t.notOk(/Müller|Name|version/.test(xml.legacy + xml.fast), 'no text of the answer survives the mask')
  t.match(firstDifference(side(item('a\\"b', 'NEU')), side(item('a\\u0022b', 'NEU'))), { class: 'escaping', fast: /a\\u0022a/ }, '\\" against \\u0022 is escaping too')
  t.match(firstDifference(side(item('M\u00FCller', 'NEU')), side(item('M\\u00FCller', 'NEU'))), { class: 'escaping' }, 'a raw ü against \\u00FC')
  t.match(firstDifference(side(item('\u{1F600}', 'NEU')), side(item('\\uD83D\\uDE00', 'NEU'))), { class: 'escaping' }, 'a surrogate pair is one character')
  t.match(firstDifference(side(item('x', 'GELESEN')), side(item('x', 'NEU'))), { class: 'status-row', member: '$.prescriptions[0].checkLevel' }, 'another status row read')
  t.match(firstDifference(side(item('x', 'NEU')), side(item('x', 'NEU', '2026-12-03T11:11:11.11Z'))), { class: 'body', offset: null }, 'the volatile timestamps alone are not a difference')
  t.match(firstDifference(side('{"lastSeen":"2026-12-03T10:00:00.5Z"}'), side('{"lastSeen":"2026-12-03T10:00:00.50Z"}')), { class: 'timestamp', member: '$.lastSeen' }, 'another date-time text')
  t.match(firstDifference(side('{"lastSeen":"2026-12-03T10:00:00Z"}'), side('{"lastSeen":"2026-12-03T11:00:00+01:00"}')), { class: 'timestamp' })
  t.match(firstDifference(side('{"a":[1]}'), side('{"a":[1,2]}')), { class: 'body', member: '$.a[0]' })
  t.match(firstDifference(side('abc'), side('abcdef')), { class: 'length', offset: 3, legacy: '(end)', fast: 'aaaaaa' })
  t.match(firstDifference(side('', 401, 'text/plain'), side(item('x', 'NEU'))), { class: 'status', offset: 0 })
  t.match(firstDifference(side('{}', 200, 'text/json'), side('{}')), { class: 'content-type', offset: null })
  t.equal(memberAt(Buffer.from('{"a":{"b":[1,{"c":"xyz"}]},"d":2}'), 20), '$.a.b[1].c')
  t.equal(memberAt(Buffer.from('{"a":{"b":1},"d":2}'), 17), '$.d')
  t.equal(mask('Ab9 ü\\u00FC\\n-'), 'Aa0 a\\u00FC\\n-')
})

t.test('the record knows the login, never the password, and replays as curl without credentials', async (t) => {
  const basic = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`
  t.equal(loginOf(basic('arz-klein:pw:with:colons')), 'arz-klein')
  t.equal(loginOf(`basic  ${Buffer.from('u:p').toString('base64')}`), 'u')
  t.equal(loginOf(basic('nocolon')), null)
  t.equal(loginOf('Bearer abc'), null)
  t.equal(loginOf(undefined), null)
  const line = curlLine('http://legacy:5000/base', "/v2/rezept?x=%ZZ&q='", {
    authorization: basic('arz-gross:geheim'), host: 'proxy', accept: 'application/json', 'x-multi': ['a', 'b'], cookie: 'c=1', connection: 'keep-alive',
  })
  t.equal(line, `curl -sS -i --path-as-is 'http://legacy:5000/v2/rezept?x=%ZZ&q='\\''' -H 'accept: application/json' -H 'x-multi: a' -H 'x-multi: b' -u 'arz-gross'`)
  t.equal(curlLine('http://l', '/v2/rezept', { authorization: 'Bearer secret' }), `curl -sS -i --path-as-is 'http://l/v2/rezept' -H 'Authorization: <left out>'`)
})

t.test('the demotion window: any mismatch by default, sliding, and the p99 rule after enough samples', async (t) => {
  const strict = new DemotionWindow({ window: 1000, maxMismatches: 0, latencyMinSamples: 0 })
  t.equal(strict.add(false, 10, 1), undefined)
  t.equal(strict.add(true, 10, 1), '1 mismatch in the last 2 comparisons (allowed: 0 in 1000)')
  const tolerant = new DemotionWindow({ window: 3, maxMismatches: 1, latencyMinSamples: 0 })
  t.equal(tolerant.add(true, 1, 1), undefined)
  t.equal(tolerant.add(false, 1, 1), undefined)
  t.equal(tolerant.add(false, 1, 1), undefined)
  t.equal(tolerant.add(true, 1, 1), undefined, 'the first mismatch slid out of the window')
  t.match(tolerant.add(true, 1, 1), /^2 mismatches in the last 3/)
  tolerant.reset()
  t.equal(tolerant.count, 0)
  const latency = new DemotionWindow({ window: 100, maxMismatches: 0, latencyMinSamples: 40 })
  let reason: string | undefined
  for (let i = 0; i < 39; i++) t.equal(latency.add(false, 10, 50), undefined, 'not before the minimum sample')
  for (let i = 0; i < 10 && reason === undefined; i++) reason = latency.add(false, 10, 50)
  // Checked every window/20 comparisons once the minimum is reached.
  t.match(reason, /^fast p99 50\.0 ms above the legacy's 10\.0 ms over the last 4[0-4] comparisons$/)
  const faster = new DemotionWindow({ window: 20, maxMismatches: 0, latencyMinSamples: 1 })
  for (let i = 0; i < 40; i++) t.equal(faster.add(false, 10, 2), undefined)
  t.equal(p99(Float64Array.from([5, 1, 3, 100, 2]), 5), 100)
  t.equal(p99(Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]), 4), 4)
})

function record(i: number, at = new Date().toISOString(), bodies = false): MismatchRecord {
  const summary = { status: 200, contentType: JSON_TYPE, ms: 1, length: 10, sha256: 'x' }
  return {
    id: `r${i}`, at, routeId: 'v2.rezept.list', outcome: 'mismatch', kind: 'shadow', user: 'u', flag: 'shadow', requestId: null, curl: 'curl',
    legacy: summary, fast: { ...summary, servedBy: 'fast' }, firstDifference: { class: 'body', offset: 3, fastOffset: 3, member: null, legacy: 'a', fast: 'b' }, differences: [], differencesTotal: 0, ...(bodies ? { bodies: { legacy: 'L'.repeat(100), fast: 'F' } } : {}),
  }
}

t.test('the ring keeps the newest records; the NDJSON file rotates within its bounds', async (t) => {
  const dir = t.testdir({})
  const errors: Error[] = []
  const log = new MismatchLog({ ringSize: 3, path: `${dir}/m.ndjson`, maxFileBytes: 1200, keepFiles: 2, bodyRetentionMs: 3_600_000, onError: (e) => errors.push(e) })
  t.teardown(() => log.close())
  for (let i = 0; i < 20; i++) log.add(record(i))
  t.same(log.list().map((r) => r.id), ['r19', 'r18', 'r17'], 'newest first, three at most')
  await log.flushed()
  const files = (await readdir(dir)).sort()
  t.same(files, ['m.ndjson', 'm.ndjson.1', 'm.ndjson.2'], 'the current file and two rotated ones')
  for (const file of files) t.ok((await stat(`${dir}/${file}`)).size <= 1200, `${file} within maxFileBytes`)
  const current = (await readFile(`${dir}/m.ndjson`, 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as MismatchRecord).id)
  t.equal(current.at(-1), 'r19', 'the newest record is in the current file')
  const rotated = (await readFile(`${dir}/m.ndjson.1`, 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as MismatchRecord).id)
  t.equal(Number(rotated.at(-1)!.slice(1)) + 1, Number(current[0]!.slice(1)), 'no record lost between the files')
  t.same(errors, [])

  const none = new MismatchLog({ ringSize: 0, path: undefined, maxFileBytes: 1024, keepFiles: 0, bodyRetentionMs: 1000, onError: () => {} })
  none.add(record(1))
  t.same(none.list(), [], 'a ring of 0 keeps nothing')
  await none.close()
})

t.test('full bodies are dropped after the retention limit, from the ring and from the files', async (t) => {
  const dir = t.testdir({})
  const log = new MismatchLog({ ringSize: 10, path: `${dir}/m.ndjson`, maxFileBytes: 1_000_000, keepFiles: 0, bodyRetentionMs: 50, onError: () => {} })
  t.teardown(() => log.close())
  log.add(record(1, new Date(Date.now() - 60_000).toISOString(), true))
  log.add(record(2, new Date().toISOString(), true))
  const listed = log.list()
  t.ok(listed[0]!.bodies, 'a fresh record keeps its bodies')
  t.equal(listed[1]!.bodies, undefined, 'an old one has lost them')
  await log.flushed()
  t.ok((await stat(`${dir}/m.ndjson`)).size > 0)
  await new Promise((r) => setTimeout(r, 120))
  await log.flushed()
  await waitFor('the file with expired bodies deleted', () => true)
  await new Promise((r) => setTimeout(r, 60))
  await log.flushed()
  t.same(await readdir(dir), [], 'the file holding expired bodies is gone')
  log.add(record(3))
  await log.flushed()
  t.same(await readdir(dir), ['m.ndjson'], 'new records start a new file')
  void utimes
})

t.test('the legacy reader gives undefined for a failure, a timeout and an answer over the cap', async (t) => {
  const server = http.createServer((req, res) => {
    if (req.url === '/big') return void res.end(Buffer.alloc(5000))
    if (req.url === '/slow') return void setTimeout(() => res.end('late'), 500)
    res.setHeader('content-type', 'text/plain')
    res.end(`seen ${req.headers['x-h']} ${req.headers.connection}`)
  })
  const url = await listen(server, 0, '127.0.0.1')
  t.teardown(() => server.close())
  const reader = new LegacyReader(url, { capBytes: 1000, timeoutMs: 100, maxSockets: 2 })
  t.teardown(() => reader.close())
  const ok = await reader.read('/ok', { 'x-h': 'v', connection: 'close' })
  t.equal(ok?.body.toString(), 'seen v keep-alive', 'the headers go along, hop-by-hop ones do not')
  t.equal(ok?.contentType, 'text/plain')
  t.equal(await reader.read('/big', {}), undefined)
  t.equal(await reader.read('/slow', {}), undefined)
  t.equal(await reader.readOrLoss('/big', {}), 'over-cap', 'over the cap: nothing to compare')
  t.equal(await reader.readOrLoss('/slow', {}), 'failed', 'a timeout is the legacy failing')
  const gone = new LegacyReader('http://127.0.0.1:1', { capBytes: 10, timeoutMs: 100, maxSockets: 1 })
  t.equal(await gone.read('/', {}), undefined)
  t.equal(await gone.readOrLoss('/', {}), 'failed')
  gone.close()
})

t.test('a legacy answer that breaks off mid-body is a legacy-error; a shadow run that fails is skipped', async (t) => {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': JSON_TYPE, 'content-length': 1000 })
    res.write('{"prescriptions":[')
    setTimeout(() => res.destroy(), 20)
  })
  const url = await listen(server, 0, '127.0.0.1')
  t.teardown(() => server.close())
  const events: ProxyEvent[] = []
  const proxy = await proxyFor(t, { legacyUrl: url, flags: 'v2.rezept.list=shadow,v2.rezept.pharmacy=shadow' }, {
    fastPaths: [stubFastPath('v2.rezept.list', 'answer'), stubFastPath('v2.rezept.pharmacy', 'throw')],
  })
  proxy.events.on((e) => void (e.type === 'shadow.compared' && events.push(e)))
  await rawExchange(proxy.url, { method: 'GET', target: '/v2/rezept' }).catch(() => undefined)
  await rawExchange(proxy.url, { method: 'GET', target: '/v2/rezept/status' }).catch(() => undefined)
  await waitFor('two comparisons', () => events.length === 2)
  t.same(events.map((e) => e.type === 'shadow.compared' && `${e.routeId} ${e.outcome}`).sort(), ['v2.rezept.list legacy-error', 'v2.rezept.pharmacy skipped'])
  t.equal(proxy.flags.get('v2.rezept.list').mode, 'shadow', 'nothing to demote')
  t.same(proxy.shadowComparison.log.list(), [], 'no mismatch record')
})
