// Runs the statusuuid case table (status-cases.ts) through the legacy simulator and the fast path and
// asserts equal bytes (timestamps and trace ids blanked) or the named deferral.
import t from 'tap'
import { CASE_SETTINGS } from '../v2-rezept-list/cases.ts'
import { startComparison, type ComparisonFixture } from '../v2-rezept-list/comparison-fixture.ts'
import { blankStatusBody, buildStatusCases, headersFor, sendWithBody, type StatusCase } from './status-cases.ts'
import { uuidPools, widenNewRows } from './world.ts'

let fixture: ComparisonFixture
let cases: StatusCase[] = []
const never = new AbortController().signal

t.before(async () => {
  // gross: more than 1000 new eMuster16 prescriptions, so the window has an outside.
  fixture = await startComparison({ prefix: 't_suuid_cases_', rows: 2600, kleinRows: 400, ...CASE_SETTINGS })
  await widenNewRows(fixture.report, 'gross')
  cases = buildStatusCases(await uuidPools(fixture.sim.port, fixture.report))
})
t.teardown(async () => {
  await fixture?.close()
})

t.test('the statusuuid case table', async (t) => {
  t.ok(cases.length >= 150, `${cases.length} cases`)
  t.equal(new Set(cases.map((c) => c.name)).size, cases.length, 'case names are unique')
  const path = fixture.path('v2.rezept.statusuuid')
  for (const c of cases) {
    await t.test(c.name, async (t) => {
      const headers = headersFor(c)
      const legacy = await sendWithBody(fixture.sim.port, 'PATCH', c.rawUrl, headers, c.body)
      const outcome = await path.handle({ routeId: 'v2.rezept.statusuuid', method: 'PATCH', rawUrl: c.rawUrl, headers, body: c.body }, never)
      if (c.legacyStatus !== undefined) t.equal(legacy.status, c.legacyStatus, 'the legacy answers as the case says')
      if (c.expect !== 'same') {
        t.equal(outcome.kind, 'defer', 'the fast path defers')
        if (outcome.kind === 'defer') t.equal(outcome.reason, c.expect, 'for the named reason')
        return
      }
      t.equal(outcome.kind, 'answer', `the fast path answers${outcome.kind === 'defer' ? ` (deferred: ${outcome.reason} ${outcome.error?.message ?? ''})` : ''}`)
      if (outcome.kind !== 'answer') return
      t.equal(outcome.status, legacy.status, 'same status')
      t.equal(outcome.contentType, legacy.contentType, 'same Content-Type')
      const expected = blankStatusBody(legacy.body)
      const actual = blankStatusBody(outcome.body)
      t.same(actual.malformed, [], 'every timestamp of the fast path is in UtcNow form')
      t.equal(actual.text, expected.text, 'same bytes apart from the timestamps')
    })
  }
  // The world has what the table is about.
  const found = cases.filter((c) => c.expect === 'same' && /one .* uuid/.test(c.name))
  t.ok(found.length >= 12, 'found uuids of every type and tenant with rows')
  t.ok(cases.some((c) => c.name.includes('outside the window')), 'uuids beyond the window')
})
