// Where the proxy gets its fast paths: the rezept-list factory (routes/rezept-list), given the
// config's `fastPath` section plus the legacy settings it must echo. No ArzSw URL: no fast paths.
import type { Config } from '../config/load.ts'
import type { FastPath } from '../routes/fast-path/contract.ts'
import { createRezeptFastPaths, fastPathSettings, type FastPathSettingsInput } from '../routes/rezept-list/index.ts'
import type { EventBus } from './events.ts'

export interface WiredFastPaths {
  readonly paths: readonly FastPath[]
  /** For the pass-through: a request that may write was answered (see RezeptFastPaths.writeAnswered). */
  readonly writeAnswered?: (authorization: string | undefined, status: number | undefined) => Promise<void>
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
  return createRezeptFastPaths(settings, { events })
}
