// Runs the v1 GET new case table (cases.ts) through the legacy simulator and the fast path: equal bytes or the named deferral.
import t from 'tap'
import { authorizationFor, CASE_SETTINGS } from '../v2-rezept-list/cases.ts'
import { startComparison, type ComparisonFixture } from '../v2-rezept-list/comparison-fixture.ts'
import { V1_NEW_CASES } from './cases.ts'

let fixture: ComparisonFixture
t.before(async () => {
  fixture = await startComparison({ prefix: 't_v1new_cases_', ...CASE_SETTINGS })
})
t.teardown(async () => {
  await fixture?.close()
})

t.test('the case table has at least 150 requests', async (t) => {
  t.ok(V1_NEW_CASES.length >= 150, `${V1_NEW_CASES.length} cases`)
  t.equal(new Set(V1_NEW_CASES.map((c) => c.name)).size, V1_NEW_CASES.length, 'case names are unique')
})

for (const c of V1_NEW_CASES) {
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
    if (outcome.kind !== 'answer') return t.fail(`deferred: ${outcome.reason} ${outcome.error?.message ?? ''}`)
    t.equal(outcome.status, legacy.status, 'same status')
    t.equal(outcome.contentType, legacy.contentType, 'same Content-Type')
    t.equal(outcome.body.toString('utf8'), legacy.body.toString('utf8'), 'same bytes')
  })
}
