// With a probe user configured, the proxy reads the legacy's MaxPageSize, Environment and avsSystem
// once at start-up (the real simulator here) and refuses to start when its own differ.
import t, { type Test } from 'tap'
import { ConfigError, loadConfig } from '../../config/load.ts'
import { startProxy } from '../../proxy/app.ts'
import { startLegacySim } from '../../legacy-sim/server.ts'
import { seed } from '../../sql/seed/seed.ts'
import { databaseUrl, pgAdminUrl } from '../support/services.ts'
import type { Logger } from 'pino'

const report = await seed({ adminUrl: pgAdminUrl(), prefix: 't_probe_', rows: 300, kleinRows: 300 })
const arzswUrl = databaseUrl(report.databases.arzsw)
const sim = await startLegacySim({ arzswUrl, port: 0, maxPageSize: 700, environment: 'Staging' })
t.teardown(() => sim.close())
const PROBE = { 'legacyProbe.login': 'arz-klein', 'legacyProbe.password': 'klein-Geheim2' }
const MATCHING = { legacyUrl: sim.url, maxPageSize: 700, environment: 'Staging', ...PROBE }

/** Starts a proxy with the test config plus overrides; what it logged at info and warn level. */
async function start(t: Test, overrides: Record<string, unknown>): Promise<{ logged: string[] }> {
  const logged: string[] = []
  const record = (object: unknown, message?: string) => void logged.push(`${message ?? ''} ${JSON.stringify(object)}`)
  const logger = { info: record, warn: record, error: record, debug: () => {}, child: () => logger } as unknown as Logger
  const proxy = await startProxy(loadConfig({ env: { FASTPATH_ENV: 'test' }, overrides }), { logger })
  t.teardown(() => proxy.shutdown())
  return { logged }
}

t.test('settings equal to the legacy\'s: the proxy starts and says what it checked', async (t) => {
  const { logged } = await start(t, MATCHING)
  t.ok(logged.some((line) => line.includes('legacy settings match') && line.includes('avsSystem') && line.includes('maxPageSize') && line.includes('environment')), logged.join('\n'))
})

t.test('a difference stops the start with a ConfigError naming the setting and both values', async (t) => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['environment', { environment: 'Live' }, /environment: the legacy says "Staging", this proxy "Live"/],
    ['maxPageSize above', { maxPageSize: 1000 }, /maxPageSize: the legacy clamps pageSize 1001 to 700, this proxy to 1000/],
    ['maxPageSize below', { maxPageSize: 500 }, /maxPageSize: the legacy clamps pageSize 501 to 501, this proxy to 500/],
    ['avsSystem', { 'avsSystem.version': '3.1' }, /avsSystem: the legacy says \{"manufacturer":"GfAL","name":"ArzTi","version":"3.0"\}/],
  ]
  for (const [name, change, message] of cases) {
    const error = await startProxy(loadConfig({ env: { FASTPATH_ENV: 'test' }, overrides: { ...MATCHING, ...change } })).then(
      async (proxy) => {
        await proxy.shutdown()
        return undefined
      },
      (e: unknown) => e,
    )
    t.ok(error instanceof ConfigError, `${name}: refused`)
    t.match((error as Error | undefined)?.message, message, name)
  }
})

t.test('a legacy that cannot be asked does not stop the start; it is logged', async (t) => {
  const wrong = await start(t, { ...MATCHING, 'legacyProbe.password': 'falsch' })
  t.ok(wrong.logged.some((line) => line.includes('not checked') && line.includes('401')), 'a refused probe user: warned with the status')
  const down = await start(t, { ...MATCHING, legacyUrl: 'http://127.0.0.1:9', 'upstream.headersTimeoutMs': 2000 })
  t.ok(down.logged.some((line) => line.includes('not checked') && line.includes('did not answer')), 'a legacy that is down: warned')
  const noProbe = await start(t, { ...MATCHING, 'legacyProbe.login': undefined, environment: 'Live' })
  t.notOk(noProbe.logged.some((line) => line.includes('legacy settings')), 'without a probe user nothing is asked')
})
