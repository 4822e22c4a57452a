// The one JSON string writer against the legacy's measured escaping (docs/legacy-contract.md §1), every BMP code point
// and characters above U+FFFF, for the fast paths' bytes and the simulator's text alike.
import { readFileSync } from 'node:fs'
import t from 'tap'
import { JsonBytes } from '../../json/json-bytes.ts'
import { jsonString } from '../../legacy-sim/json-text.ts'

// Read here on its own, not through json-escape-table.ts: the test states the rule from the file.
const measured = JSON.parse(readFileSync(new URL('../../json/dotnet-json-escaping.json', import.meta.url), 'utf8')) as {
  escaped_bmp_ranges: Array<[number, number]>
  net10_differs_on: string[]
}
const listed = new Set<number>()
for (const [from, to] of measured.escaped_bmp_ranges) for (let c = from; c <= to; c++) listed.add(c)
const SHORT: Record<number, string> = { 0x22: '\\"', 0x5c: '\\\\', 0x08: '\\b', 0x09: '\\t', 0x0a: '\\n', 0x0c: '\\f', 0x0d: '\\r' }

/** What the legacy writes for one code point inside a string, as bytes. */
function expected(codePoint: number): Buffer {
  if (codePoint > 0xffff) {
    const text = String.fromCodePoint(codePoint)
    return Buffer.from(hex(text.charCodeAt(0)) + hex(text.charCodeAt(1)), 'latin1')
  }
  if (!listed.has(codePoint)) return Buffer.from(String.fromCharCode(codePoint), 'utf8')
  return Buffer.from(SHORT[codePoint] ?? hex(codePoint), 'latin1')
}

function hex(unit: number): string {
  return '\\u' + unit.toString(16).toUpperCase().padStart(4, '0')
}

const out = new JsonBytes()
function written(text: string): Buffer {
  out.reset()
  out.string(text)
  return out.toBuffer()
}

const BMP: number[] = []
for (let c = 1; c <= 0xffff; c++) if (c < 0xd800 || c > 0xdfff) BMP.push(c)
const SUPPLEMENTARY = [0x10000, 0x1f600, 0x1f48a, 0x10fffd]

t.test('the measured table is the one the writer is checked against', async (t) => {
  t.equal([...listed].filter((c) => c <= 0xffff).length, 7939, '7939 BMP code points escaped')
  for (const c of [0x3c, 0x3e, 0x26, 0x27, 0x2b, 0x60, 0x2f, 0xfc, 0x20ac, 0xad, 0x4e2d]) t.notOk(listed.has(c), `U+${c.toString(16)} is written raw`)
  for (const c of [0x7f, 0xa0, 0x2028, 0x2029, 0x3000, 0xfeff, 0xe000, 0xfffe]) t.ok(listed.has(c), `U+${c.toString(16)} is escaped`)
})

t.test('every BMP code point U+0001-U+FFFF alone is written as the legacy writes it', async (t) => {
  const wrong: string[] = []
  for (const c of BMP) {
    const want = Buffer.concat([Buffer.from('"'), expected(c), Buffer.from('"')])
    const got = written(String.fromCharCode(c))
    if (!got.equals(want)) wrong.push(`U+${c.toString(16).toUpperCase()}: ${got.toString('latin1')} instead of ${want.toString('latin1')}`)
  }
  t.same(wrong.slice(0, 20), [], `${wrong.length} code points written otherwise`)
})

t.test('all of them in one string, between plain letters, give the same bytes', async (t) => {
  const text = BMP.map((c) => 'a' + String.fromCharCode(c)).join('') + 'z'
  const want = Buffer.concat([Buffer.from('"'), ...BMP.map((c) => Buffer.concat([Buffer.from('a'), expected(c)])), Buffer.from('z"')])
  t.ok(written(text).equals(want), 'one long string')
})

t.test('characters above U+FFFF are written as their two surrogates, upper-case hex', async (t) => {
  for (const c of SUPPLEMENTARY) {
    const want = Buffer.concat([Buffer.from('"'), expected(c), Buffer.from('"')])
    t.equal(written(String.fromCodePoint(c)).toString('latin1'), want.toString('latin1'), `U+${c.toString(16).toUpperCase()}`)
  }
  t.equal(written('💊').toString(), '"\\uD83D\\uDC8A"', 'the example of legacy-contract.md §1')
  t.equal(written('x😀y').toString(), '"x\\uD83D\\uDE00y"')
})

t.test('a lone surrogate (not possible from PostgreSQL text) is escaped, never replaced by U+FFFD', async (t) => {
  t.equal(written('a\ud800b').toString(), '"a\\uD800b"')
  t.equal(written('\udfff').toString(), '"\\uDFFF"')
  t.equal(written('\u0000').toString(), '"\\u0000"', 'U+0000, a control like U+0001')
})

t.test('code points Unicode 16 assigned stay escaped: the table is .NET 8\'s, not the runtime\'s', async (t) => {
  for (const c of measured.net10_differs_on.map((h) => Number.parseInt(h, 16))) {
    t.equal(written(String.fromCharCode(c)).toString('latin1'), `"${hex(c)}"`, `U+${c.toString(16).toUpperCase()}`)
  }
})

t.test('the examples of docs/legacy-contract.md §1', async (t) => {
  t.equal(written('<Ärzt "A&B">').toString(), '"<Ärzt \\"A&B\\">"')
  t.equal(written('Prüf+<1>').toString(), '"Prüf+<1>"')
  t.equal(written("'+`/\\").toString(), '"\'+`/\\\\"')
})

t.test('the simulator writes the same text for every code point', async (t) => {
  const wrong: string[] = []
  for (const c of [...BMP, ...SUPPLEMENTARY]) {
    const want = '"' + expected(c).toString('utf8') + '"'
    const got = jsonString(String.fromCodePoint(c))
    if (got !== want) wrong.push(`U+${c.toString(16).toUpperCase()}: ${got} instead of ${want}`)
  }
  t.same(wrong.slice(0, 20), [], `${wrong.length} code points written otherwise`)
  t.equal(jsonString('<Ärzt "A&B">'), '"<Ärzt \\"A&B\\">"', 'the example of legacy-contract.md §1')
})

t.test('a long text grows the buffer and keeps every byte', async (t) => {
  const text = '"ä€<'.repeat(400_000) // 1.6 M units, past the 1 MiB first capacity however it is escaped
  out.reset()
  out.ascii('[')
  out.string(text)
  out.ascii(']')
  t.equal(out.toBuffer().toString(), '["' + '\\"ä€<'.repeat(400_000) + '"]')
})
