// The one way a proxy instance is put together from a validated Config, used by `npm start`
// (proxy/main.ts), the benchmark's proxy (bench/proxy-instance.ts, bench/shadow.ts), the comparison's
// demo target and the fuzz run: the legacy's answer-shaping settings learnt by probe first (the fast
// paths echo them), then the fast paths on the config's settings, then the proxy with everything they
// offer (pass-through write notices, the shared credential check, the metric sources). A benchmark
// thus measures exactly what production runs. close() takes it apart in the one safe order: the proxy
// drains first (in-flight fast answers still need their pools), then the fast paths.
import type { Logger } from 'pino'
import type { Config } from '../config/load.ts'
import { EventBus } from '../core/events.ts'
import type { FastPath } from '../routes/contract.ts'
import { startProxy, type RunningProxy } from './app.ts'
import { createLogger } from './event-log.ts'
import { proxyDepsOf, wireFastPaths, type WiredFastPaths } from './fast-path-wiring.ts'
import { learnLegacySettings } from './legacy-settings-probe.ts'
import { readUpstreamCa } from './upstream-trust.ts'
import { startTracing } from './tracing/tracing.ts'

export interface InstanceOptions {
  /** The bus the fast paths and the proxy share; a new one when not given. */
  readonly events?: EventBus
  /** The proxy's log; one at config.logLevel when not given. */
  readonly logger?: Logger
  /** Reads the config again for a reload (SIGHUP, POST /reload). Without it a reload changes nothing. */
  readonly reloadConfig?: () => Config
  /**
   * Wraps each fast path before the proxy gets it, for a test that must hold one (the shadow tests'
   * gate). Everything else stays wired as in production.
   */
  readonly wrapFastPath?: (path: FastPath) => FastPath
}

export interface RunningInstance {
  readonly proxy: RunningProxy
  readonly fast: WiredFastPaths
  /** The config the instance runs with: the given one with the settings learnt from the legacy. */
  readonly config: Config
  /** Proxy shutdown (stop accepting, drain), then the fast paths (pools, Redis, caches). Once; later calls wait for the first. */
  close(): Promise<void>
}

export async function startInstance(given: Config, options: InstanceOptions = {}): Promise<RunningInstance> {
  // The fast paths are built with the legacy's own answer-shaping settings, read before they exist.
  const learnt = await learnLegacySettings(given, readUpstreamCa(given.upstream.caFile))
  const config = learnt.config
  const events = options.events ?? new EventBus()
  const fast = await wireFastPaths(config, events)
  // Off (the default): undefined, and the proxy creates no span and does no context work.
  const tracing = startTracing(config.tracing, events)
  let proxy: RunningProxy
  try {
    const deps = proxyDepsOf(fast)
    const wrap = options.wrapFastPath
    proxy = await startProxy(config, {
      ...deps,
      ...(wrap ? { fastPaths: deps.fastPaths?.map(wrap) } : {}),
      events,
      logger: options.logger ?? createLogger(config.logLevel),
      legacySettings: learnt.source,
      ...(options.reloadConfig ? { reloadConfig: options.reloadConfig } : {}),
      ...(tracing ? { tracing } : {}),
    })
  } catch (error) {
    await tracing?.shutdown()
    await fast.close()
    throw error
  }
  let closing: Promise<void> | undefined
  return {
    proxy,
    fast,
    config,
    close() {
      closing ??= (async () => {
        try {
          await proxy.shutdown()
        } finally {
          await fast.close()
          // Last: the spans of the drained requests are exported before it stops.
          await tracing?.shutdown()
        }
      })()
      return closing
    },
  }
}
