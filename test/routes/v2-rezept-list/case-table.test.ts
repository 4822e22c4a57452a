// Runs the shared case table (cases.ts) through the legacy simulator and the fast paths and asserts equal bytes or the named deferral.
import t from 'tap'
import { authorizationFor, CASE_SETTINGS, FAST_PATH_CASES } from './cases.ts'
import { blankVolatile, startComparison, type ComparisonFixture } from './comparison-fixture.ts'

let fixture: ComparisonFixture
t.before(async () => {
  fixture = await startComparison({ prefix: 't_fast_cases_', ...CASE_SETTINGS })
})
t.teardown(async () => {
  await fixture?.close()
})

t.test('the case table has at least 200 requests', async (t) => {
  t.ok(FAST_PATH_CASES.length >= 200, `${FAST_PATH_CASES.length} cases`)
  t.equal(new Set(FAST_PATH_CASES.map((c) => c.name)).size, FAST_PATH_CASES.length, 'case names are unique')
})

for (const c of FAST_PATH_CASES) {
  t.test(c.name, async (t) => {
    const headers = authorizationFor(c)
    const legacy = await fixture.toSim(c.method, c.rawUrl, headers)
    const outcome = await fixture.toFast(c.routeId, c.method, c.rawUrl, headers)
    if (c.legacyStatus !== undefined) t.equal(legacy.status, c.legacyStatus, 'the legacy answers as the case says')
    if (c.expect !== 'same') {
      t.equal(outcome.kind, 'defer', 'the fast path defers')
      if (outcome.kind === 'defer') t.equal(outcome.reason, c.expect, 'for the named reason')
      return
    }
    t.equal(legacy.status, 200, 'the legacy answers 200')
    t.equal(outcome.kind, 'answer', 'the fast path answers')
    if (outcome.kind !== 'answer') return
    t.equal(outcome.status, legacy.status, 'same status')
    t.equal(outcome.contentType, legacy.contentType, 'same Content-Type')
    const expected = blankVolatile(legacy.body)
    const actual = blankVolatile(outcome.body)
    t.same(actual.malformed, [], 'every timestamp of the fast path is in UtcNow form')
    t.equal(actual.text, expected.text, 'same bytes apart from the timestamps')
  })
}
