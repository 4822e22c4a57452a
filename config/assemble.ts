// The validated option values (by dotted name) → the typed, nested Config that config/load.ts returns.
import type { ClassRatesConfig, Config, TlsConfig } from './load.ts'
import type { FastPathConfig } from './fast-path.ts'
import { DEV_REDIS_KEY_SECRET, type EnvironmentName } from './schema.ts'

export function assemble(envName: EnvironmentName, v: Record<string, unknown>): Omit<Config, 'answerSettingsSet'> {
  const str = (name: string) => v[name] as string
  const num = (name: string) => v[name] as number
  const opt = (name: string) => v[name] as string | undefined
  return {
    envName,
    host: str('host'),
    port: num('port'),
    tls: !opt('tls.certFile') ? undefined : { certFile: str('tls.certFile'), keyFile: str('tls.keyFile'), minVersion: str('tls.minVersion') as TlsConfig['minVersion'] },
    admin: { host: str('admin.host'), port: num('admin.port'), token: opt('admin.token') || undefined, metricsOpen: v['admin.metricsOpen'] as boolean },
    legacyUrl: opt('legacyUrl'),
    arzswUrl: opt('arzswUrl'),
    redisUrl: opt('redisUrl'),
    redisKeyPrefix: str('redisKeyPrefix'),
    redisKeySecret: opt('redisKeySecret') || DEV_REDIS_KEY_SECRET,
    redisKeySecretIsDefault: !opt('redisKeySecret'),
    redisBodyKey: opt('redisBodyKey')?.trim() || undefined,
    flags: v.flags as Config['flags'],
    flagRefreshMs: num('flagRefreshMs'),
    shadowConcurrency: num('shadowConcurrency'),
    shadow: {
      bodyCapBytes: num('shadow.bodyCapBytes'),
      samplePercent: num('shadow.samplePercent'),
      sampleMaxPerSecond: num('shadow.sampleMaxPerSecond'),
      valueMaxChars: num('shadow.valueMaxChars'),
      mismatches: {
        ringSize: num('shadow.mismatches.ringSize'),
        file: opt('shadow.mismatches.file') || undefined,
        maxFileBytes: num('shadow.mismatches.maxFileBytes'),
        keepFiles: num('shadow.mismatches.keepFiles'),
        fullBodies: v['shadow.mismatches.fullBodies'] as boolean,
        bodyRetentionMinutes: num('shadow.mismatches.bodyRetentionMinutes'),
      },
      demotion: {
        enabled: v['shadow.demotion.enabled'] as boolean,
        window: num('shadow.demotion.window'),
        maxMismatches: num('shadow.demotion.maxMismatches'),
        latencyMinSamples: num('shadow.demotion.latencyMinSamples'),
      },
    },
    upstream: {
      connectTimeoutMs: num('upstream.connectTimeoutMs'),
      headersTimeoutMs: num('upstream.headersTimeoutMs'),
      bodyTimeoutMs: num('upstream.bodyTimeoutMs'),
      maxSockets: num('upstream.maxSockets'),
      idleSocketTimeoutMs: num('upstream.idleSocketTimeoutMs'),
      caFile: opt('upstream.caFile') || undefined,
      queueTimeoutMs: num('upstream.queueTimeoutMs'),
      maxPerClient: num('upstream.maxPerClient'),
      anonymousSharePercent: num('upstream.anonymousSharePercent'),
    },
    limits: {
      enabled: v['limits.enabled'] as boolean,
      default: classRates(v, 'default'),
      premium: classRates(v, 'premium'),
      premiumTenants: str('limits.premiumTenants').split(',').map((s) => s.trim()).filter((s) => s !== ''),
      unverified: {
        loginPerSecond: num('limits.unverified.loginPerSecond'),
        loginBurst: num('limits.unverified.loginBurst'),
        addressPerSecond: num('limits.unverified.addressPerSecond'),
        addressBurst: num('limits.unverified.addressBurst'),
      },
      authFailures: { maxFailures: num('limits.authFailures.maxFailures'), windowMs: num('limits.authFailures.windowMs'), blockMs: num('limits.authFailures.blockMs') },
      fastConcurrencyPerTenant: num('limits.fastConcurrencyPerTenant'),
      verifiedTrustMs: num('limits.verifiedTrustMs'),
      redisTimeoutMs: num('limits.redisTimeoutMs'),
      clientAddressHeader: opt('limits.clientAddressHeader')?.toLowerCase() || undefined,
      maxBodyBytes: num('limits.maxBodyBytes'),
      maxHeaderBytes: num('limits.maxHeaderBytes'),
      headersTimeoutMs: num('limits.headersTimeoutMs'),
      requestTimeoutMs: num('limits.requestTimeoutMs'),
      bodyMinBytesPerSecond: num('limits.bodyMinBytesPerSecond'),
      bodyRateGraceMs: num('limits.bodyRateGraceMs'),
      bodyTimeoutMs: num('limits.bodyTimeoutMs'),
    },
    audit: { destination: str('audit.destination') },
    forwardedHeaders: v.forwardedHeaders as boolean,
    serverTiming: v.serverTiming as boolean,
    shutdownGraceMs: num('shutdownGraceMs'),
    logLevel: str('logLevel'),
    maxPageSize: num('maxPageSize'),
    environment: str('environment'),
    avsSystem: { manufacturer: str('avsSystem.manufacturer'), name: str('avsSystem.name'), version: str('avsSystem.version') },
    legacyProbe: { login: opt('legacyProbe.login') || undefined, password: opt('legacyProbe.password') || undefined },
    demo: { prefix: str('demo.prefix'), rows: num('demo.rows') },
    adminUsers: v.adminUsers as string[],
    performanceTargetP99Ms: num('performanceTargetP99Ms'),
    performanceMinSample: { answers: num('performanceMinAnswers'), seconds: num('performanceMinSeconds') },
    fastPath: {
      authCacheTtlMs: num('fastPath.authCacheTtlMs'),
      userRowRefreshMs: num('fastPath.userRowRefreshMs'),
      credentialWatchMs: num('fastPath.credentialWatchMs'),
      bcryptWorkers: v['fastPath.bcryptWorkers'] as number | 'cores',
      bcryptMaxQueued: num('fastPath.bcryptMaxQueued'),
      bcryptQueueTimeoutMs: num('fastPath.bcryptQueueTimeoutMs'),
      pool: {
        maxSize: num('fastPath.pool.maxSize'),
        maxPools: num('fastPath.pool.maxPools'),
        idleTimeoutMs: num('fastPath.pool.idleTimeoutMs'),
        connectTimeoutMs: num('fastPath.pool.connectTimeoutMs'),
        statementTimeoutMs: num('fastPath.pool.statementTimeoutMs'),
        sessionOptions: v['fastPath.pool.sessionOptions'] as boolean,
      },
      preparedStatements: v['fastPath.preparedStatements'] as boolean,
      countCache: v['fastPath.countCache'] as boolean,
      fastPathMaxPageSize: num('fastPath.fastPathMaxPageSize'),
      xmlMemoBytes: num('fastPath.xmlMemoBytes'),
      circuitBreaker: { failureThreshold: num('fastPath.circuitBreaker.failureThreshold'), openMs: num('fastPath.circuitBreaker.openMs') },
      cache: {
        routes: v['fastPath.cache.routes'] as FastPathConfig['cache']['routes'],
        maxStaleMs: num('fastPath.cache.maxStaleMs'),
        changeFeedMaxStaleMs: num('fastPath.cache.changeFeedMaxStaleMs'),
        l1MaxBytes: num('fastPath.cache.l1MaxBytes'),
        maxEntryBytes: num('fastPath.cache.maxEntryBytes'),
        redisCommandTimeoutMs: num('fastPath.cache.redisCommandTimeoutMs'),
        publication: str('fastPath.cache.publication'),
      },
    },
  }
}

function classRates(v: Record<string, unknown>, name: 'default' | 'premium'): ClassRatesConfig {
  return {
    userPerSecond: v[`limits.${name}.userPerSecond`] as number,
    userBurst: v[`limits.${name}.userBurst`] as number,
    tenantPerSecond: v[`limits.${name}.tenantPerSecond`] as number,
    tenantBurst: v[`limits.${name}.tenantBurst`] as number,
  }
}
