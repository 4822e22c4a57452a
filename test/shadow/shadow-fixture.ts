// A seeded installation with the legacy simulator and proxy instances started as `npm start` starts
// them (proxy/instance.ts), for the shadow tests; plus a gate that holds a shadow run until the test lets it go.
import type { Test } from 'tap'
import { randomUUID } from 'node:crypto'
import { loadConfig } from '../../config/load.ts'
import { startLegacySim, type LegacySimHandle } from '../../legacy-sim/server.ts'
import type { RunningProxy } from '../../proxy/app.ts'
import { EventBus, type ProxyEvent } from '../../core/events.ts'
import { startInstance } from '../../proxy/instance.ts'
import { seed } from '../../sql/seed/seed.ts'
import { databaseUrl, pgAdminUrl, redisTestPrefix, redisUrl } from '../../dev/services.ts'
import { CASE_SETTINGS } from '../routes/v2-rezept-list/cases.ts'

export interface Installation {
  readonly sim: LegacySimHandle
  readonly arzswUrl: string
  readonly kleinUrl: string
  /** Options every instance shares: the legacy, ArzSw, one Redis prefix, the case table's settings. */
  readonly shared: Record<string, unknown>
}

export interface ShadowInstance {
  readonly proxy: RunningProxy
  readonly events: ProxyEvent[]
  /** Set to hold the next shadow run of the fast path until the promise it returns settles. */
  gate: (() => Promise<void>) | undefined
}

export async function startInstallation(t: Test, prefix: string): Promise<Installation> {
  const report = await seed({ adminUrl: pgAdminUrl(), prefix, rows: 300, kleinRows: 400 })
  const arzswUrl = databaseUrl(report.databases.arzsw)
  const sim = await startLegacySim({ arzswUrl, port: 0, ...CASE_SETTINGS })
  t.teardown(() => sim.close())
  const redisPrefix = redisTestPrefix(t, 't_shadow')
  return {
    sim,
    arzswUrl,
    kleinUrl: databaseUrl(report.databases.tenants.klein),
    shared: {
      legacyUrl: sim.url, arzswUrl, redisUrl: redisUrl(), redisKeyPrefix: redisPrefix, ...CASE_SETTINGS,
      // The uncached fast path: these tests change rows straight in the database and read at once.
      fastPath: { cache: { routes: { 'v2.rezept.list': 'off', 'v2.rezept.pharmacy': 'off' } } },
    },
  }
}

export async function startShadowInstance(t: Test, installation: Installation, overrides: Record<string, unknown>): Promise<ShadowInstance> {
  // Flags persist in Redis: each instance has a prefix of its own (under the installation's) unless
  // the test gives one to share, so a demotion in one test never reaches the next.
  const redisKeyPrefix = `${installation.shared.redisKeyPrefix as string}${randomUUID().slice(0, 8)}:`
  const config = loadConfig({ env: { FASTPATH_ENV: 'test' }, overrides: { ...installation.shared, redisKeyPrefix, ...overrides } })
  const bus = new EventBus()
  const events: ProxyEvent[] = []
  bus.on((event) => {
    if (event.type === 'shadow.compared' || event.type === 'route.demoted' || event.type === 'fast.deferred' || event.type === 'flag.changed') events.push(event)
  })
  const instance: ShadowInstance = { proxy: undefined as unknown as RunningProxy, events, gate: undefined }
  const running = await startInstance(config, {
    events: bus,
    wrapFastPath: (path) => ({
      routeId: path.routeId,
      async handle(request, signal) {
        const gate = instance.gate
        instance.gate = undefined
        if (gate) await gate()
        return path.handle(request, signal)
      },
    }),
  })
  t.teardown(running.close)
  return Object.assign(instance, { proxy: running.proxy })
}

export async function waitFor(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const started = performance.now()
  while (!check()) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

export function compared(events: readonly ProxyEvent[]): Extract<ProxyEvent, { type: 'shadow.compared' }>[] {
  return events.filter((e): e is Extract<ProxyEvent, { type: 'shadow.compared' }> => e.type === 'shadow.compared')
}
