// Builds the shadow comparison of one proxy instance from its config: the comparator, its mismatch
// log and legacy reader, and the demotion that switches a route off here and, through Redis, on
// every other instance.
import type { Logger } from 'pino'
import type { Config } from '../../config/load.ts'
import type { RouteId } from '../../routes/contract.ts'
import { FLAG_OFF, type FlagSetting } from '../../core/flag-setting.ts'
import type { Demotion, FlagStore } from '../../routes/flags/flag-store.ts'
import type { EventBus } from '../../core/events.ts'
import type { ShadowRunner } from '../shadow-runner.ts'
import { LegacyReader } from './legacy-reader.ts'
import { MismatchLog } from './mismatch-log.ts'
import { ShadowComparator } from './shadow-comparator.ts'

export interface ShadowComparison {
  readonly comparator: ShadowComparator
  readonly log: MismatchLog
  close(): Promise<void>
}

export interface ShadowComparisonDeps {
  readonly legacyUrl: string
  /** CAs trusted for an `https:` legacy (upstream.caFile). */
  readonly legacyCa?: string | undefined
  readonly events: EventBus
  readonly flags: FlagStore
  readonly runner: ShadowRunner
  readonly logger: Logger
  /** Stores the flag in Redis and tells the other instances; undefined without Redis. */
  readonly publish: ((routeId: RouteId, flag: FlagSetting, demotion: Demotion) => Promise<void>) | undefined
}

export function startShadowComparison(config: Config, deps: ShadowComparisonDeps): ShadowComparison {
  const { shadow } = config
  const log = new MismatchLog({
    ringSize: shadow.mismatches.ringSize,
    path: shadow.mismatches.file,
    maxFileBytes: shadow.mismatches.maxFileBytes,
    keepFiles: shadow.mismatches.keepFiles,
    bodyRetentionMs: shadow.mismatches.bodyRetentionMinutes * 60_000,
    onError: (error) => deps.logger.warn({ err: error.message }, 'shadow: a mismatch record could not be written to its file'),
  })
  const reader = new LegacyReader(deps.legacyUrl, { capBytes: shadow.bodyCapBytes, timeoutMs: config.upstream.headersTimeoutMs, maxSockets: Math.max(1, config.shadowConcurrency), ca: deps.legacyCa, idleSocketTimeoutMs: config.upstream.idleSocketTimeoutMs })
  const comparator = new ShadowComparator({
    legacyUrl: deps.legacyUrl,
    events: deps.events,
    flags: deps.flags,
    runner: deps.runner,
    reader,
    log,
    settings: {
      bodyCapBytes: shadow.bodyCapBytes,
      samplePercent: shadow.samplePercent,
      sampleMaxPerSecond: shadow.sampleMaxPerSecond,
      fullBodies: shadow.mismatches.fullBodies,
      valueMaxChars: shadow.valueMaxChars,
      maxPaths: 20,
      demotion: shadow.demotion,
    },
    demote: (routeId, reason) => {
      const demotion: Demotion = { reason, at: new Date().toISOString() }
      deps.flags.set(routeId, FLAG_OFF, 'demotion', 'demotion', demotion)
      deps.events.emit({ type: 'route.demoted', routeId, reason })
      deps.logger.error({ routeId, reason }, 'route demoted: switched off on every instance; an operator re-enables it with PUT /flags/<routeId>')
      deps.publish?.(routeId, FLAG_OFF, demotion).catch((error: unknown) =>
        deps.logger.error({ err: (error as Error).message, routeId }, 'route demoted here but not in Redis: other instances keep their flag'),
      )
    },
  })
  return {
    comparator,
    log,
    async close() {
      await comparator.settled()
      reader.close()
      await log.close()
    },
  }
}
