// Escaped xmlRequest texts are reused only while the row's text is unchanged: a changed row, another
// tenant's row under the same id, a full memo, none of them may ever put other bytes in an answer.
import t from 'tap'
import { EscapedTextMemo } from '../../json/escaped-text-memo.ts'
import { JsonBytes } from '../../json/json-bytes.ts'
import { execute } from '../routes/v2-rezept-list/arzsw-users.ts'
import { basicAuthorization } from '../routes/v2-rezept-list/cases.ts'
import { blankVolatile, startComparison, type ComparisonFixture } from '../routes/v2-rezept-list/comparison-fixture.ts'
import { databaseUrl } from '../../dev/services.ts'

function escapedPlainly(text: string): string {
  const out = new JsonBytes()
  out.string(text)
  return out.toBuffer().toString('latin1')
}

function escapedThrough(memo: EscapedTextMemo, key: string, text: string): string {
  const out = new JsonBytes()
  out.ascii('[')
  memo.write(out, key, text)
  out.ascii(']')
  const written = out.toBuffer().toString('latin1')
  return written.slice(1, -1)
}

const LONG = (seed: string) => `<?xml version="1.0" encoding="UTF-8"?><Rezept id='${seed}'>` + `<Pos a="1&amp;2">Müller + Söhne ${seed} \u2028 \ud83d\ude00</Pos>`.repeat(12) + '</Rezept>'

t.test('a reused text is written as escaping it anew would write it', async (t) => {
  const memo = new EscapedTextMemo(1 << 20)
  const texts = [LONG('a'), LONG('b'), 'short <x>', '"'.repeat(300), '\u0000\u001f\u007f'.repeat(100), 'ä'.repeat(400)]
  for (const [i, text] of texts.entries()) {
    t.equal(escapedThrough(memo, `k${i}`, text), escapedPlainly(text), `first write of text ${i}`)
    t.equal(escapedThrough(memo, `k${i}`, text), escapedPlainly(text), `second write of text ${i}`)
  }
  // 'short <x>' is below the length worth keeping: never looked up.
  t.equal(memo.hits, texts.length - 1, 'each long text reused once')
  t.equal(memo.misses, texts.length - 1, 'each long text escaped once')
})

t.test('a changed text under the same key is escaped afresh', async (t) => {
  const memo = new EscapedTextMemo(1 << 20)
  escapedThrough(memo, 'row-7', LONG('before'))
  const after = LONG('after')
  t.equal(escapedThrough(memo, 'row-7', after), escapedPlainly(after), 'the new text, not the kept one')
  t.equal(memo.hits, 0, 'no reuse across a change')
  t.equal(escapedThrough(memo, 'row-7', after), escapedPlainly(after), 'and the new text is kept in turn')
  t.equal(memo.hits, 1)
})

t.test('the memo holds at most its bound, and a bound of 0 keeps nothing', async (t) => {
  const bound = 64 * 1024
  const memo = new EscapedTextMemo(bound)
  for (let i = 0; i < 200; i++) escapedThrough(memo, `k${i}`, LONG(String(i)))
  t.ok(memo.heldBytes > 0 && memo.heldBytes <= bound, `${memo.heldBytes} bytes held, bound ${bound}`)
  const text = LONG('x')
  t.equal(escapedThrough(memo, 'k199', LONG('199')), escapedPlainly(LONG('199')), 'the most recent entry still serves')
  const off = new EscapedTextMemo(0)
  t.equal(escapedThrough(off, 'k', text), escapedPlainly(text))
  t.equal(escapedThrough(off, 'k', text), escapedPlainly(text))
  t.equal(off.heldBytes, 0, 'nothing kept')
  t.equal(off.hits + off.misses, 0, 'nothing looked up')
})

t.test('through the fast path, against the legacy', async (t) => {
  const fixture: ComparisonFixture = await startComparison({ prefix: 't_fast_xmm_', rows: 300, kleinRows: 300, maxPageSize: 500, environment: 'Test' })
  t.teardown(() => fixture.close())
  const KLEIN = { authorization: basicAuthorization('arz-klein', 'klein-Geheim2') }
  const GROSS = { authorization: basicAuthorization('arz-gross', 'gross-Geheim1') }
  const URL_ = '/v2/rezept?type=eMuster16&pageSize=5'
  const DATEN = 'er_senderezepte_emuster16_daten'
  const sameAsLegacy = async (who: Record<string, string>, what: string): Promise<string> => {
    const outcome = await fixture.toFast('v2.rezept.list', 'GET', URL_, who)
    if (outcome.kind !== 'answer') throw new Error(`deferred: ${outcome.reason}`)
    const legacy = await fixture.toSim('GET', URL_, who)
    const fast = blankVolatile(outcome.body).text
    t.equal(fast, blankVolatile(legacy.body).text, what)
    return fast
  }

  const first = JSON.parse(await sameAsLegacy(KLEIN, 'klein, first read')) as { prescriptions: Array<{ datenId: number; xmlRequest: string }> }
  const before = fixture.fast.xmlMemoStats()
  await sameAsLegacy(KLEIN, 'klein, read again')
  t.ok(fixture.fast.xmlMemoStats().hits > before.hits, 'the second read reused escaped texts')

  const datenId = first.prescriptions[0]!.datenId
  const changed = LONG(`changed-${datenId}`)
  await execute(databaseUrl(fixture.report.databases.tenants.klein), `UPDATE ${DATEN} SET xml_request = $1 WHERE id_senderezepte_emuster16_daten = $2`, [changed, datenId])
  const after = JSON.parse(await sameAsLegacy(KLEIN, 'klein, after its XML changed')) as typeof first
  t.equal(after.prescriptions[0]!.xmlRequest, changed, 'the changed text is served at once')

  // The same daten id in the other tenant, with other text: each tenant reads its own.
  const grossText = LONG(`gross-${datenId}`)
  await execute(databaseUrl(fixture.report.databases.tenants.gross), `UPDATE ${DATEN} SET xml_request = $1 WHERE id_senderezepte_emuster16_daten = $2`, [grossText, datenId])
  for (let round = 0; round < 2; round++) {
    await sameAsLegacy(GROSS, `gross, round ${round}`)
    const klein = JSON.parse(await sameAsLegacy(KLEIN, `klein, round ${round}`)) as typeof first
    t.equal(klein.prescriptions[0]!.xmlRequest, changed, 'klein never sees gross\'s text')
  }
})
