// Puts the performance endpoints together for one proxy instance: the latency summary on the bus, and
// a credential verifier of its own (opened on the first admin request, so a proxy whose endpoints are
// never asked for opens no ArzSw connection for them).
import type { Config } from '../config/load.ts'
import type { RouteId } from '../routes/fast-path/contract.ts'
import { CredentialVerifier } from '../routes/fast-path/credential-verifier.ts'
import type { FlagSetting } from '../routes/flag-setting.ts'
import type { EventBus } from './events.ts'
import type { PoolStats } from './metrics/sources.ts'
import { PerformanceEndpoints } from './performance-endpoints.ts'
import { PerformanceStats } from './performance-stats.ts'

export interface PerformanceWiring {
  readonly endpoints: PerformanceEndpoints
  readonly stats: PerformanceStats
  close(): Promise<void>
}

// The fast path's own defaults (routes/rezept-list/settings.ts): a verified admin is trusted a minute.
const VERIFIER_SETTINGS = { outcomeTtlMs: 60_000, userRowTtlMs: 60_000, connectTimeoutMs: 2000, statementTimeoutMs: 2000, preparedStatements: true }

export function startPerformanceEndpoints(options: {
  readonly config: () => Config
  readonly events: EventBus
  readonly flag: (route: RouteId) => FlagSetting
  readonly pools?: () => readonly PoolStats[]
  readonly checks: () => Promise<Record<string, boolean>>
}): PerformanceWiring {
  const stats = new PerformanceStats()
  const unsubscribe = stats.subscribe(options.events)
  const arzswUrl = options.config().arzswUrl
  let verifier: CredentialVerifier | undefined
  const endpoints = new PerformanceEndpoints({
    stats,
    flag: options.flag,
    ...(options.pools ? { pools: options.pools } : {}),
    checks: options.checks,
    targetP99Ms: () => options.config().performanceTargetP99Ms,
    startedAt: Date.now(),
    adminUsers: () => options.config().adminUsers,
    ...(arzswUrl === undefined
      ? {}
      : { verify: (credentials) => (verifier ??= new CredentialVerifier({ arzswUrl, events: options.events, ...VERIFIER_SETTINGS })).verify(credentials) }),
  })
  return {
    endpoints,
    stats,
    async close() {
      unsubscribe()
      await verifier?.close()
    },
  }
}
