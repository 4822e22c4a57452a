// Puts one proxy instance together from a validated config and the injected fast paths: event bus
// and log, flags (and their Redis sync), the legacy upstream, the client and admin listeners; and
// takes it apart again (reload of what may change at run time, graceful shutdown).
//
// Over 300 lines because the instance's assembly and its reload and shutdown share every part they
// build: split, each half would have to know the other's order of start and stop.
import type { Logger } from 'pino'
import { Agent as UndiciAgent } from 'undici'
import { ConfigError, reloadableChanges, type Config } from '../config/load.ts'
import type { BasicCredentials } from '../auth/basic-credentials.ts'
import type { FastPath } from '../routes/contract.ts'
import type { VerifyOutcome } from '../auth/credential-verifier.ts'
import { flagText, type FlagSetting } from '../core/flag-setting.ts'
import { FlagStore } from '../routes/flags/flag-store.ts'
import { FlagSync } from '../routes/flags/flag-sync.ts'
import { AdminServer } from './admin-server.ts'
import { auditEvents, createAuditLogger } from './audit-log.ts'
import { limitSettingsOf } from './limits/limit-settings.ts'
import { RequestLimits } from './limits/request-limits.ts'
import { ClientServer } from './client-server.ts'
import { createLogger, logEvents } from './event-log.ts'
import { ProxyError } from '../core/errors.ts'
import { EventBus } from '../core/events.ts'
import { LegacyUpstream } from './legacy-upstream.ts'
import { clientAddressOf } from './limits/client-address.ts'
import { UpstreamGate } from './upstream-gate.ts'
import type { Tracing } from './tracing/tracing.ts'
import { startProxyMetrics } from './metrics/proxy-metrics.ts'
import type { MetricSources } from './metrics/sources.ts'
import { startPerformanceEndpoints } from './performance-wiring.ts'
import { legacyReachable, postgresReachable, readinessOf, type Readiness, type ReadinessStatus } from './readiness.ts'
import { readServerCertificate, type ServerCertificate } from './server-certificate.ts'
import { ShadowRunner } from './shadow-runner.ts'
import { startShadowComparison, type ShadowComparison } from './shadow/shadow-wiring.ts'
import { readUpstreamCa } from './upstream-trust.ts'
import { fastModeRefusal, learnLegacySettings, sameAnswerSettings, type AnswerSettingsSource } from './legacy-settings-probe.ts'

export interface ProxyDeps {
  readonly fastPaths?: readonly FastPath[]
  /** Told when a request that writes prescriptions (routes/prescription-writes.ts) got the legacy's answer, before the client sees it (cache invalidation). */
  readonly writeAnswered?: (authorization: string | undefined, status: number | undefined) => Promise<void>
  /**
   * Checks an admin user's password for the performance endpoints (the fast paths' verifier: one
   * cache, one set of BCrypt threads). Without it those endpoints are the legacy's to answer.
   */
  readonly verifyCredentials?: (credentials: BasicCredentials) => Promise<VerifyOutcome>
  readonly events?: EventBus
  readonly logger?: Logger
  /** What the metrics read at scrape time from parts the caller owns (tenant pools, Redis state). */
  readonly metricSources?: MetricSources
  /** Reads the config again for a reload (SIGHUP, POST /reload); throws a ConfigError when invalid. */
  readonly reloadConfig?: () => Config
  /**
   * Where the config's answer-shaping settings came from, when the caller already learnt them
   * (learnLegacySettings, as `npm start` does before building the fast paths). Without it the proxy
   * asks the legacy itself and refuses to start if the legacy's differ from the config's.
   */
  readonly legacySettings?: AnswerSettingsSource
  /** Spans per request (proxy/tracing/tracing.ts); the caller starts and shuts it down. */
  readonly tracing?: Tracing
}

export interface RunningProxy {
  readonly url: string
  readonly adminUrl: string
  readonly flags: FlagStore
  readonly events: EventBus
  readonly shadow: ShadowRunner
  /** Shadow comparisons, their mismatch records and the demotion rules. */
  readonly shadowComparison: ShadowComparison
  readonly logger: Logger
  config(): Config
  /** Where the answer-shaping settings in use came from; `unknown` refuses on/canary. */
  legacySettings(): AnswerSettingsSource
  /** Re-reads the config and applies what may change at run time; returns the options that changed. */
  reload(by?: string): Promise<string[]>
  /** SIGTERM: stop accepting, finish in-flight (bounded by shutdownGraceMs), release everything. */
  shutdown(): Promise<void>
}

export async function startProxy(initial: Config, deps: ProxyDeps = {}): Promise<RunningProxy> {
  const legacyUrl = initial.legacyUrl
  if (legacyUrl === undefined) throw new ConfigError(['legacyUrl: required to start the proxy (LEGACY_URL; without it npm start runs the demo and sets it)'])
  let config = initial
  // Files first: a missing or mismatched certificate stops the start before anything is opened.
  let certificate: ServerCertificate | undefined = initial.tls ? readServerCertificate(initial.tls) : undefined
  const legacyCa = readUpstreamCa(initial.upstream.caFile)
  // Before anything listens: settings that differ from the legacy's stop the start (a ConfigError).
  let legacySettings: AnswerSettingsSource
  if (deps.legacySettings !== undefined) legacySettings = deps.legacySettings
  else {
    const learnt = await learnLegacySettings(initial, legacyCa)
    if (!sameAnswerSettings(learnt.config, initial)) {
      throw new ConfigError([`legacyProbe: the legacy's settings (maxPageSize ${learnt.config.maxPageSize}, environment ${JSON.stringify(learnt.config.environment)}, avsSystem ${JSON.stringify(learnt.config.avsSystem)}) differ from those the fast paths were built with (${initial.maxPageSize}, ${JSON.stringify(initial.environment)}, ${JSON.stringify(initial.avsSystem)}); build them from learnLegacySettings' config`])
    }
    legacySettings = learnt.source
  }
  for (const [routeId, flag] of Object.entries(initial.flags)) {
    const refusal = flag && fastModeRefusal(legacySettings, flag)
    if (refusal) throw new ConfigError([`flags (FASTPATH_FLAGS or the config file), ${routeId}: ${refusal}`])
  }
  const readinessDispatcher = legacyCa === undefined ? undefined : new UndiciAgent({ connect: { ca: legacyCa } })
  const events = deps.events ?? new EventBus()
  const logger = deps.logger ?? createLogger(config.logLevel)
  const stopLogging = logEvents(events, logger, { flagChanges: config.audit.destination === 'off' })
  const answerSettings = { maxPageSize: config.maxPageSize, environment: config.environment, avsSystem: config.avsSystem }
  if (legacySettings.kind === 'learnt') logger.info({ learnt: legacySettings.learnt, ...answerSettings }, 'legacy settings learnt from the legacy')
  else if (legacySettings.kind === 'explicit') logger.info({ reason: legacySettings.reason, ...answerSettings }, 'legacy settings as set in the configuration, not read from the legacy')
  else logger.warn({ reason: legacySettings.reason, missing: legacySettings.missing }, 'legacy settings unknown: fast paths only off or shadow')
  const audit = createAuditLogger(config.audit.destination)
  const stopAuditing = audit ? auditEvents(events, audit) : () => {}
  const limits = new RequestLimits({
    settings: limitSettingsOf(config.limits),
    events,
    ...(config.redisUrl === undefined ? {} : { redis: { url: config.redisUrl, keyPrefix: config.redisKeyPrefix, keySecret: config.redisKeySecret } }),
    ...(config.arzswUrl === undefined ? {} : { arzswUrl: config.arzswUrl }),
  })
  const flags = new FlagStore(config.flags, events)
  // A peer's on/canary is taken as shadow while this instance does not know the legacy's settings.
  flags.peerGate = (flag) => fastModeRefusal(legacySettings, flag) === undefined
  const shadow = new ShadowRunner(config.shadowConcurrency, config.upstream.headersTimeoutMs, (request, outcome) => {
    if (outcome.kind === 'defer') events.emit({ type: 'fast.deferred', routeId: request.routeId, reason: outcome.reason, ...(outcome.error ? { error: outcome.error } : {}) })
  })

  let sync: FlagSync | undefined
  if (config.redisUrl !== undefined) {
    sync = new FlagSync(flags, {
      redisUrl: config.redisUrl,
      keyPrefix: config.redisKeyPrefix,
      refreshMs: config.flagRefreshMs,
      onError: (error) => logger.warn({ err: error.message }, 'redis: flags not synchronised'),
    })
    await sync.start()
  }

  const shadowComparison = startShadowComparison(config, {
    legacyUrl,
    legacyCa,
    events,
    flags,
    runner: shadow,
    logger,
    publish: sync ? (routeId, flag, demotion) => sync.publish(routeId, flag, demotion) : undefined,
  })

  let upstreamSettings = upstreamSettingsOf(config)
  // One pace for every request body, whether streamed to the legacy or read whole for a fast path.
  const bodyPace = { minBytesPerSecond: config.limits.bodyMinBytesPerSecond, graceMs: config.limits.bodyRateGraceMs, deadlineMs: config.limits.bodyTimeoutMs }
  const upstream = new LegacyUpstream({
    legacyUrl,
    ...(legacyCa === undefined ? {} : { ca: legacyCa }),
    maxSockets: config.upstream.maxSockets,
    idleSocketTimeoutMs: config.upstream.idleSocketTimeoutMs,
    events,
    gate: new UpstreamGate({
      capacity: config.upstream.maxSockets,
      perClient: config.upstream.maxPerClient,
      queueTimeoutMs: config.upstream.queueTimeoutMs,
      anonymousCapacity: Math.max(1, Math.floor((config.upstream.maxSockets * config.upstream.anonymousSharePercent) / 100)),
    }),
    shareOf: (req) => limits.upstreamShareOf(req),
    clientAddress: (req) => clientAddressOf(req, config.limits.clientAddressHeader),
    bodyPace,
    settings: () => upstreamSettings,
    ...(deps.writeAnswered ? { writeAnswered: deps.writeAnswered } : {}),
  })
  const readiness = async (): Promise<Record<string, boolean>> => {
    const checks: Record<string, boolean> = {}
    const pending: Promise<void>[] = [legacyReachable(legacyUrl, readinessDispatcher).then((ok) => void (checks.legacy = ok))]
    if (config.arzswUrl) pending.push(postgresReachable(config.arzswUrl).then((ok) => void (checks.arzsw = ok)))
    if (sync) pending.push(sync.ping().then((ok) => void (checks.redis = ok)))
    await Promise.all(pending)
    return checks
  }
  const fastPathIds = new Set((deps.fastPaths ?? []).map((path) => path.routeId))
  let lastReadiness: ReadinessStatus | undefined
  const readinessVerdict = async (): Promise<Readiness> => {
    const fastRouteOn = [...fastPathIds].some((routeId) => { const mode = flags.get(routeId).mode; return mode === 'on' || mode === 'canary' })
    const verdict = readinessOf(await readiness(), fastRouteOn)
    lastReadiness = verdict.status
    return verdict
  }
  const performance = startPerformanceEndpoints({
    config: () => config,
    events,
    flag: (routeId) => flags.get(routeId),
    ...(deps.metricSources?.pools ? { pools: deps.metricSources.pools } : {}),
    checks: readiness,
    ...(deps.verifyCredentials ? { verify: deps.verifyCredentials } : {}),
  })

  const client = new ClientServer({
    host: config.host,
    port: config.port,
    ...(certificate ? { tls: certificate.context } : {}),
    upstream,
    flags,
    fastPaths: deps.fastPaths ?? [],
    shadow,
    comparator: shadowComparison.comparator,
    events,
    serverTiming: () => upstreamSettings.serverTiming,
    performanceEndpoints: performance.endpoints,
    limits,
    ...(deps.tracing ? { tracing: deps.tracing } : {}),
    http: { maxHeaderSize: config.limits.maxHeaderBytes, headersTimeout: config.limits.headersTimeoutMs, requestTimeout: config.limits.requestTimeoutMs },
    bodyPace,
  })

  // Without a token the admin API must not be reachable from other machines.
  const adminHost = config.admin.token === undefined ? '127.0.0.1' : config.admin.host
  const reload = async (by = 'SIGHUP'): Promise<string[]> => {
    if (!deps.reloadConfig) return []
    let next: Config
    let nextCertificate: ServerCertificate | undefined
    try {
      next = deps.reloadConfig()
      // No token means "allow": on a listener bound to another address that would open the admin API.
      if (next.admin.token === undefined && !isLoopback(adminHost)) throw new ProxyError('ADMIN_TOKEN_REQUIRED')
      // The running listener's files, re-read: rotating a certificate is replacing them, then SIGHUP.
      nextCertificate = config.tls ? readServerCertificate(config.tls) : undefined
    } catch (error) {
      logger.error({ err: (error as Error).message }, 'reload rejected: the running configuration stays')
      events.emit({ type: 'config.reloaded', by, ok: false, changed: [], error: (error as Error).message })
      throw error
    }
    // The legacy's settings, read again: the fast paths keep the values they were built with, so a
    // change is taken by a restart; until then on/canary would answer otherwise and are refused.
    let nextSource: AnswerSettingsSource
    try {
      const learnt = await learnLegacySettings(next, legacyCa)
      // Only what was read this time counts: a legacy that is down says nothing about a change.
      if (!sameAnswerSettings(learnt.config, config, learnt.read)) {
        nextSource = { kind: 'unknown', reason: `the legacy's settings are now maxPageSize ${learnt.config.maxPageSize}, environment ${JSON.stringify(learnt.config.environment)}, avsSystem ${JSON.stringify(learnt.config.avsSystem)}, the fast paths answer with those read at start; restart the proxy to take them`, missing: ['maxPageSize', 'environment', 'avsSystem'] }
      } else nextSource = learnt.source.kind === 'unknown' && legacySettings.kind !== 'unknown' ? legacySettings : learnt.source
      for (const [routeId, flag] of Object.entries(next.flags)) {
        const before = config.flags[routeId as keyof Config['flags']]
        const refusal = flag && (before === undefined || flagText(before) !== flagText(flag)) ? fastModeRefusal(nextSource, flag) : undefined
        if (refusal) throw new ConfigError([`flags, ${routeId}: ${refusal}`])
      }
    } catch (error) {
      logger.error({ err: (error as Error).message }, 'reload rejected: the running configuration stays')
      events.emit({ type: 'config.reloaded', by, ok: false, changed: [], error: (error as Error).message })
      throw error
    }
    if (nextSource.kind === 'unknown' && legacySettings.kind !== 'unknown') {
      logger.error({ reason: nextSource.reason }, 'legacy settings changed: routes on or canary go to shadow')
      for (const [routeId, flag] of Object.entries(flags.all())) {
        if (flag.mode === 'on' || flag.mode === 'canary') flags.set(routeId as keyof Config['flags'], { mode: 'shadow' }, 'legacy-settings-probe', 'config')
      }
    }
    legacySettings = nextSource
    next = { ...next, maxPageSize: config.maxPageSize, environment: config.environment, avsSystem: config.avsSystem }
    const changed = reloadableChanges(config, next)
    if (nextCertificate && certificate && nextCertificate.context.cert !== certificate.context.cert) {
      client.setSecureContext(nextCertificate.context)
      certificate = nextCertificate
      changed.push('tls.certFile')
      logger.info({ fingerprint256: certificate.fingerprint256, validTo: certificate.validTo }, 'tls: new certificate served to new connections')
    }
    events.emit({ type: 'config.reloaded', by, ok: true, changed })
    for (const [routeId, flag] of Object.entries(next.flags)) {
      const before = config.flags[routeId as keyof Config['flags']]
      if (flag && (before === undefined || flagText(before) !== flagText(flag))) {
        flags.set(routeId as keyof Config['flags'], flag, 'config-reload', 'config')
        await sync?.publish(routeId as keyof Config['flags'], flag).catch(() => {})
      }
    }
    config = { ...next, host: config.host, port: config.port, tls: config.tls, admin: { ...next.admin, host: config.admin.host, port: config.admin.port } }
    upstreamSettings = upstreamSettingsOf(config)
    shadow.setConcurrency(config.shadowConcurrency)
    logger.level = config.logLevel
    logger.info({ changed }, 'configuration reloaded')
    return changed
  }

  const metrics = startProxyMetrics({
    events,
    flags,
    sources: { inFlight: () => client.inFlight, shadowRuns: () => shadow.counts, readiness: () => lastReadiness, ...deps.metricSources },
  })

  if (config.redisUrl !== undefined && config.redisKeySecretIsDefault) logger.warn('no REDIS_KEY_SECRET: Redis key names are keyed with the public development secret (refused in production)')
  if (config.admin.token === undefined) logger.warn({ host: adminHost }, 'no FASTPATH_ADMIN_TOKEN: the admin API listens on loopback only and asks for no token')
  const admin = new AdminServer({
    host: adminHost,
    port: config.admin.port,
    token: () => config.admin.token,
    metricsOpen: () => config.admin.metricsOpen,
    flags,
    refuse: (flag: FlagSetting) => fastModeRefusal(legacySettings, flag),
    sharedFlags: sync !== undefined,
    propagate: async (routeId, flag) => {
      if (!sync) return false
      try {
        await sync.publish(routeId, flag)
        return true
      } catch (error) {
        logger.warn({ err: (error as Error).message, routeId }, 'flag applied here but not stored in Redis')
        return false
      }
    },
    readiness: readinessVerdict,
    metricsText: () => metrics.text(),
    mismatches: () => shadowComparison.log.list(),
    reload,
  })

  const url = await client.listen()
  const adminUrl = await admin.listen()
  if (certificate) logger.info({ fingerprint256: certificate.fingerprint256, validTo: certificate.validTo }, 'tls: the client listener speaks HTTPS only')
  logger.info({ url, adminUrl, environment: config.envName, flags: Object.fromEntries(Object.entries(flags.all()).map(([id, f]) => [id, flagText(f)])) }, 'proxy listening')

  let stopping: Promise<void> | undefined
  const shutdown = () =>
    (stopping ??= (async () => {
      logger.info({ inFlight: client.inFlight }, 'shutting down: no new connections, finishing requests in flight')
      await client.shutdown(config.shutdownGraceMs)
      await shadow.close()
      await shadowComparison.close()
      upstream.close()
      await admin.close()
      await performance.close()
      await metrics.shutdown()
      await sync?.close()
      await limits.close()
      await readinessDispatcher?.close()
      stopAuditing()
      logger.info('shut down')
      stopLogging()
    })())

  return { url, adminUrl, flags, events, shadow, shadowComparison, logger, config: () => config, legacySettings: () => legacySettings, reload, shutdown }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host)
}

function upstreamSettingsOf(config: Config) {
  return Object.freeze({
    timeouts: config.upstream,
    forwardedHeaders: config.forwardedHeaders,
    serverTiming: config.serverTiming,
  })
}
