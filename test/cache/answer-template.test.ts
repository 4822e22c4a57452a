// A cached answer refilled with fresh timestamps equals the body the fast path wrote, timestamps aside; only keys by position are cut.
import t from 'tap'
import { AnswerShapeError, TIMESTAMP_BYTES, templateFromBody, type AnswerTemplate } from '../../cache/answer-template.ts'
import { utcNowText } from '../../json/dotnet-time.ts'
import { byDotnetInstant, dotnetTicks } from '../support/dotnet-time.ts'
import { basicAuthorization } from '../routes/v2-rezept-list/cases.ts'
import { blankVolatile, startComparison, type ComparisonFixture } from '../routes/v2-rezept-list/comparison-fixture.ts'

const GROSS = basicAuthorization('arz-gross', 'gross-Geheim1')
const VOLATILE = /"(responseTimestamp|deliveryTimestamp)":"[^"]*"/g
const LONG = '2025-10-19T10:30:00.1234567Z'
const SHORT = '2025-10-19T10:30:00Z'

/**
 * The answer with every hole filled by `now()` (called once per slot, in document order), of any
 * length up to TIMESTAMP_BYTES: the holes' places seen through texts of every length the legacy writes.
 */
function renderAnswer(template: AnswerTemplate, now: () => string = utcNowText): Buffer {
  const { bytes, slots } = template
  const out = Buffer.allocUnsafe(bytes.length)
  let written = 0
  let from = 0
  for (let i = 0; i < slots.length; i++) {
    const slot = slots[i]!
    written += bytes.copy(out, written, from, slot)
    const text = now()
    if (text.length > TIMESTAMP_BYTES) throw new RangeError(`timestamp text longer than ${TIMESTAMP_BYTES}: ${text}`)
    written += out.write(text, written, 'latin1')
    from = slot + TIMESTAMP_BYTES
  }
  written += bytes.copy(out, written, from)
  return out.subarray(0, written)
}

function withTimestamps(body: Buffer, text: string): string {
  return body.toString('utf8').replace(VOLATILE, (_all, key: string) => `"${key}":"${text}"`)
}

t.test('a real fast-path body', async (t) => {
  let fixture: ComparisonFixture | undefined
  t.teardown(async () => {
    await fixture?.close()
  })
  fixture = await startComparison({ prefix: 't_answer_tpl_', rows: 300, kleinRows: 0, maxPageSize: 500, environment: 'Test' })
  const outcome = await fixture.toFast('v2.rezept.list', 'GET', '/v2/rezept?pageSize=500', { authorization: GROSS })
  if (outcome.kind !== 'answer') throw new Error(`deferred: ${outcome.reason}`)
  const body = outcome.body
  const items = (JSON.parse(body.toString('utf8')) as { prescriptions: unknown[] }).prescriptions.length
  t.ok(items > 20, `the body has many items (${items})`)
  const template = templateFromBody(body)

  t.test('rendered at a time T equals the body with every timestamp replaced by T, whatever the length of T', async (t) => {
    t.equal(template.slots.length, items + 1, 'one slot per item and one for responseTimestamp')
    t.equal(renderAnswer(template, () => LONG).toString('utf8'), withTimestamps(body, LONG), '7 fraction digits')
    t.equal(renderAnswer(template, () => SHORT).toString('utf8'), withTimestamps(body, SHORT), 'no fraction')
  })

  t.test('rendered with the clock, timestamps are in DateTime.UtcNow form and the rest is unchanged', async (t) => {
    const rendered = renderAnswer(template)
    const { text, malformed } = blankVolatile(rendered)
    t.same(malformed, [], 'every timestamp in UtcNow form')
    t.equal(text, blankVolatile(body).text, 'same bytes apart from the timestamps')
    t.doesNotThrow(() => JSON.parse(rendered.toString('utf8')), 'valid JSON')
  })

  t.test('the items are stamped before responseTimestamp, in document order', async (t) => {
    let tick = 0
    const rendered = JSON.parse(renderAnswer(template, () => `2025-01-01T00:00:00.${String(++tick).padStart(7, '0')}Z`).toString('utf8')) as {
      prescriptions: Array<{ deliveryTimestamp: string }>
      responseTimestamp: string
    }
    const stamps = rendered.prescriptions.map((p) => p.deliveryTimestamp)
    t.same(stamps, [...stamps].sort(byDotnetInstant), 'ascending in document order')
    t.ok(dotnetTicks(rendered.responseTimestamp) > dotnetTicks(stamps.at(-1)!), 'responseTimestamp is the last one taken')
  })
})

t.test('only keys by position are cut: text inside strings and deeper objects stays', async (t) => {
  const body = Buffer.from(
    '{"prescriptions":[{"xmlRequest":"<a>\\"deliveryTimestamp\\":\\"x\\" \\\\</a>","avsSystem":{"deliveryTimestamp":"deep"},' +
      '"deliveryTimestamp":"old"},{"deliveryTimestamp":"old2","n":[1,true,null,{"responseTimestamp":"inner"}]}],' +
      '"note":{"deliveryTimestamp":"not an item"},"responseTimestamp":"old3"}',
  )
  const rendered = renderAnswer(templateFromBody(body), () => 'T').toString('utf8')
  t.equal(rendered, body.toString('utf8').replace('"old"', '"T"').replace('"old2"', '"T"').replace('"old3"', '"T"'))
})

t.test('an empty list and whitespace between tokens are handled', async (t) => {
  const body = Buffer.from('{ "prescriptions" : [ ] , "totalCount" : 0 , "responseTimestamp" : "x" }\n')
  const template = templateFromBody(body)
  t.equal(template.slots.length, 1)
  t.equal(renderAnswer(template, () => SHORT).toString(), body.toString().replace('"x"', `"${SHORT}"`))
  const items = Buffer.from('{"prescriptions":[ {"deliveryTimestamp":"a"} , 5 , {} ],"responseTimestamp":"b","e":{},"f":[]}')
  t.equal(renderAnswer(templateFromBody(items), () => 'T').toString(), items.toString().replace('"a"', '"T"').replace('"b"', '"T"'))
})

t.test('a body that is not the expected shape is refused, so it is never cached', async (t) => {
  const refused = [
    '{"prescriptions":[]}',
    '{"prescriptions":[],"responseTimestamp":null}',
    '{"prescriptions":[{"deliveryTimestamp":1}],"responseTimestamp":"x"}',
    '{"responseTimestamp":"x"} trailing',
    '{"responseTimestamp":"x',
    '[1,2]',
    '{"responseTimestamp":"x",}',
    '{"a" "b","responseTimestamp":"x"}',
    '{"a":[1 2],"responseTimestamp":"x"}',
    '{"a":{"b":1 "c":2},"responseTimestamp":"x"}',
    '{"prescriptions":[{} {}],"responseTimestamp":"x"}',
    '{"a":,"responseTimestamp":"x"}',
    '{1:2}',
  ]
  for (const text of refused) t.throws(() => templateFromBody(Buffer.from(text)), AnswerShapeError, text)
})
