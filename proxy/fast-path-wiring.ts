// Where the proxy gets its fast paths: the rezept-list factory (routes/rezept-list), given the
// config's `fastPath.*` options plus the legacy settings it must echo (fastPathSettingsFrom), as
// config/load.ts validated them. No ArzSw URL: no fast paths.
import type { Config } from '../config/load.ts'
import type { BasicCredentials } from '../auth/basic-credentials.ts'
import type { FastPath } from '../routes/contract.ts'
import type { VerifyOutcome } from '../auth/credential-verifier.ts'
import { createRezeptFastPaths } from '../routes/v2-rezept-list/index.ts'
import { fastPathSettingsFrom } from '../config/fast-path.ts'
import type { ProxyDeps } from './app.ts'
import type { EventBus } from '../core/events.ts'
import type { MetricSources } from './metrics/sources.ts'

export interface WiredFastPaths {
  readonly paths: readonly FastPath[]
  /** For the pass-through: a request that writes prescriptions was answered (see RezeptFastPaths.writeAnswered). */
  readonly writeAnswered?: (authorization: string | undefined, status: number | undefined) => Promise<void>
  /** The fast paths' credential check, shared with the admin endpoints (ProxyDeps.verifyCredentials). */
  readonly verifyCredentials?: (credentials: BasicCredentials) => Promise<VerifyOutcome>
  /** What the metrics read from the fast paths at scrape time. */
  readonly metricSources?: Pick<MetricSources, 'pools' | 'redisUp' | 'xmlMemo' | 'responseCache'>
  close(): Promise<void>
}

export async function wireFastPaths(config: Config, events: EventBus): Promise<WiredFastPaths> {
  if (config.arzswUrl === undefined) return { paths: [], close: async () => {} }
  const settings = fastPathSettingsFrom(config)
  const fast = await createRezeptFastPaths(settings, { events })
  const redisUp = fast.redisUp() === undefined ? {} : { redisUp: () => fast.redisUp() === true }
  const responseCache = fast.cacheStats() === undefined ? {} : { responseCache: () => fast.cacheStats()! }
  return {
    paths: fast.paths,
    writeAnswered: fast.writeAnswered,
    verifyCredentials: fast.verifyCredentials,
    metricSources: { pools: fast.poolStats, xmlMemo: fast.xmlMemoStats, ...redisUp, ...responseCache },
    close: () => fast.close(),
  }
}

/** What startProxy takes from the wired fast paths (ProxyDeps), the optional parts only where present. */
export function proxyDepsOf(fast: WiredFastPaths): Pick<ProxyDeps, 'fastPaths' | 'writeAnswered' | 'verifyCredentials' | 'metricSources'> {
  return {
    fastPaths: fast.paths,
    ...(fast.writeAnswered ? { writeAnswered: fast.writeAnswered } : {}),
    ...(fast.verifyCredentials ? { verifyCredentials: fast.verifyCredentials } : {}),
    ...(fast.metricSources ? { metricSources: fast.metricSources } : {}),
  }
}
