// v1 GET new in shadow (issue 19): the client gets the legacy's answer and every comparison of the
// fast path's bytes (its plan-order items included) with the legacy's is a match; nothing is demoted.
import t from 'tap'
import { request } from 'undici'
import { comparable } from '../cache/cache-instances.ts'
import { send as toSim } from '../routes/v2-rezept-list/comparison-fixture.ts'
import { authorizationFor } from '../routes/v2-rezept-list/cases.ts'
import { V1_NEW_CASES } from '../routes/v1-new/cases.ts'
import { needsRedis } from '../../dev/services.ts'
import { compared, startInstallation, startShadowInstance, waitFor, type Installation } from './shadow-fixture.ts'

const skip = needsRedis()
if (skip.skip !== undefined) t.plan(0, skip.skip)
else await run()

async function run(): Promise<void> {
  const installation: Installation = await startInstallation(t, 't_shadow_v1_')

  t.test('in shadow every v1 comparison is a match', async (t) => {
    const { proxy, events } = await startShadowInstance(t, installation, { flags: 'v1.prescriptions.new=shadow' })
    // klein and gross only: the leer user's BCrypt cost 12 adds seconds per request without adding rows.
    const cases = V1_NEW_CASES.filter((c) => c.expect === 'same' && c.user !== 'leer')
    t.ok(cases.length >= 100, `${cases.length} requests`)
    for (const c of cases) {
      const headers = authorizationFor(c)
      const before = compared(events).length
      const res = await request(proxy.url + c.rawUrl, { headers })
      const body = Buffer.from(await res.body.arrayBuffer())
      const direct = await toSim(installation.sim.port, 'GET', c.rawUrl, headers)
      await waitFor(`the comparison of ${c.name}`, () => compared(events).length > before)
      const outcome = compared(events).at(-1)!
      if (res.statusCode !== direct.status || comparable(body) !== comparable(direct.body) ||
        !String(res.headers['server-timing']).startsWith('legacy') || outcome.outcome !== 'match') {
        t.fail(`${c.name}: status ${res.statusCode}/${direct.status}, outcome ${outcome.outcome}, served ${String(res.headers['server-timing'])}`)
      }
    }
    t.equal(compared(events).filter((e) => e.outcome === 'match').length, cases.length, '100 % match')
    t.equal(events.filter((e) => e.type === 'route.demoted').length, 0, 'nothing demoted')
  })
}
