// Puts the performance endpoints together for one proxy instance: the latency summary on the bus, and
// the admin check through the fast paths' own credential verifier (its outcome cache, its BCrypt
// threads off the event loop, its prepared-statement setting), when the proxy has fast paths.
import type { Config } from '../config/load.ts'
import type { BasicCredentials } from '../auth/basic-credentials.ts'
import type { RouteId } from '../routes/contract.ts'
import type { VerifyOutcome } from '../auth/credential-verifier.ts'
import type { FlagSetting } from '../core/flag-setting.ts'
import type { EventBus } from '../core/events.ts'
import type { PoolStats } from './metrics/sources.ts'
import { PerformanceEndpoints } from './performance-endpoints.ts'
import { PerformanceStats } from './performance-stats.ts'

export interface PerformanceWiring {
  readonly endpoints: PerformanceEndpoints
  readonly stats: PerformanceStats
  close(): Promise<void>
}

export function startPerformanceEndpoints(options: {
  readonly config: () => Config
  readonly events: EventBus
  readonly flag: (route: RouteId) => FlagSetting
  readonly pools?: () => readonly PoolStats[]
  readonly checks: () => Promise<Record<string, boolean>>
  /** Without it no caller is an admin: the legacy answers the endpoints' paths. */
  readonly verify?: (credentials: BasicCredentials) => Promise<VerifyOutcome>
}): PerformanceWiring {
  const stats = new PerformanceStats()
  const unsubscribe = stats.subscribe(options.events)
  const endpoints = new PerformanceEndpoints({
    stats,
    flag: options.flag,
    ...(options.pools ? { pools: options.pools } : {}),
    checks: options.checks,
    targetP99Ms: () => options.config().performanceTargetP99Ms,
    minSample: () => options.config().performanceMinSample,
    startedAt: Date.now(),
    adminUsers: () => options.config().adminUsers,
    ...(options.verify ? { verify: options.verify } : {}),
  })
  return {
    endpoints,
    stats,
    async close() {
      unsubscribe()
    },
  }
}
