// Where the proxy gets its fast paths: the rezept-list factory (routes/rezept-list), given the
// config's `fastPath` section plus the legacy settings it must echo. No ArzSw URL: no fast paths.
import type { Config } from '../config/load.ts'
import type { FastPath } from '../routes/fast-path/contract.ts'
import { createRezeptFastPaths, fastPathSettings, type FastPathSettingsInput } from '../routes/rezept-list/index.ts'
import type { EventBus } from './events.ts'
import type { MetricSources } from './metrics/sources.ts'

export interface WiredFastPaths {
  readonly paths: readonly FastPath[]
  /** For the pass-through: a request that may write was answered (see RezeptFastPaths.writeAnswered). */
  readonly writeAnswered?: (authorization: string | undefined, status: number | undefined) => Promise<void>
  /** What the metrics read from the fast paths at scrape time. */
  readonly metricSources?: Pick<MetricSources, 'pools' | 'redisUp' | 'xmlMemo'>
  close(): Promise<void>
}

export async function wireFastPaths(config: Config, events: EventBus): Promise<WiredFastPaths> {
  if (config.arzswUrl === undefined) return { paths: [], close: async () => {} }
  const settings = fastPathSettings({
    ...(config.fastPath as Partial<FastPathSettingsInput>),
    arzswUrl: config.arzswUrl,
    maxPageSize: config.maxPageSize,
    environment: config.environment,
    avsSystem: config.avsSystem,
    redisUrl: config.redisUrl,
    redisKeyPrefix: config.redisKeyPrefix,
  })
  const fast = await createRezeptFastPaths(settings, { events })
  const redisUp = fast.redisUp() === undefined ? {} : { redisUp: () => fast.redisUp() === true }
  return {
    paths: fast.paths,
    writeAnswered: fast.writeAnswered,
    metricSources: { pools: fast.poolStats, xmlMemo: fast.xmlMemoStats, ...redisUp },
    close: () => fast.close(),
  }
}
