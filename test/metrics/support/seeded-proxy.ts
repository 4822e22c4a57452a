// A proxy in front of the legacy simulator on a seeded installation, with the real fast paths on one
// event bus, for the metrics tests; and the means to send it requests and read its /metrics.
import type { Test } from 'tap'
import { request } from 'undici'
import { loadConfig } from '../../../config/load.ts'
import { startLegacySim } from '../../../legacy-sim/server.ts'
import { startProxy, type RunningProxy } from '../../../proxy/app.ts'
import { EventBus } from '../../../core/events.ts'
import type { MetricSources } from '../../../proxy/metrics/sources.ts'
import { createRezeptFastPaths, fastPathSettings } from '../../../routes/v2-rezept-list/index.ts'
import { seed, SEED_USERS } from '../../../sql/seed/seed.ts'
import { databaseUrl, pgAdminUrl } from '../../../dev/services.ts'

const ENVIRONMENT = 'Test'
const user = SEED_USERS[0]!
export const GOOD_AUTH = `Basic ${Buffer.from(`${user.login}:${user.password}`).toString('base64')}`
export const USER_LOGIN = user.login

export interface SeededProxy {
  readonly proxy: RunningProxy
  get(target: string, authorization?: string): Promise<{ status: number; body: string }>
  setFlag(routeId: string, mode: string): Promise<void>
  scrape(): Promise<{ status: number; contentType: string; text: string }>
}

export async function startSeededProxy(t: Test, options: { prefix: string; sources?: MetricSources; adminToken?: string }): Promise<SeededProxy> {
  const report = await seed({ adminUrl: pgAdminUrl(), prefix: options.prefix, rows: 300, kleinRows: 300 })
  const arzswUrl = databaseUrl(report.databases.arzsw)
  const sim = await startLegacySim({ arzswUrl, port: 0, environment: ENVIRONMENT })
  const events = new EventBus()
  const fast = await createRezeptFastPaths(fastPathSettings({ arzswUrl, maxPageSize: 500, environment: ENVIRONMENT }), { events })
  const overrides: Record<string, unknown> = { legacyUrl: sim.url, environment: ENVIRONMENT }
  if (options.adminToken) overrides['admin.token'] = options.adminToken
  const config = loadConfig({ env: { FASTPATH_ENV: 'test' }, overrides })
  const proxy = await startProxy(config, { events, fastPaths: fast.paths, ...(options.sources ? { metricSources: options.sources } : {}) })
  t.teardown(async () => {
    await proxy.shutdown()
    await fast.close()
    await sim.close()
  })
  const adminHeaders: Record<string, string> = options.adminToken ? { authorization: `Bearer ${options.adminToken}` } : {}
  return {
    proxy,
    async get(target, authorization = GOOD_AUTH) {
      const answer = await request(`${proxy.url}${target}`, { headers: { authorization } })
      return { status: answer.statusCode, body: await answer.body.text() }
    },
    async setFlag(routeId, mode) {
      const answer = await request(`${proxy.adminUrl}/flags/${routeId}`, { method: 'PUT', headers: adminHeaders, body: JSON.stringify({ mode }) })
      await answer.body.text()
      if (answer.statusCode !== 200) throw new Error(`flag ${routeId}=${mode} refused: ${answer.statusCode}`)
    },
    async scrape() {
      // With the admin token when one is set: /metrics honours it (issue 16 point 10).
      const answer = await request(`${proxy.adminUrl}/metrics`, { headers: adminHeaders })
      return { status: answer.statusCode, contentType: String(answer.headers['content-type']), text: await answer.body.text() }
    },
  }
}
