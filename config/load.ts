// Reads the environment's config file and the env overrides, validates every option against the
// schema table once, and returns a frozen typed Config. Errors name the option and what it accepts.
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { RouteId } from '../core/route-ids.ts'
import { parseFlagMap, type FlagSetting } from '../core/flag-setting.ts'
import { DEV_REDIS_KEY_SECRET } from './schema.ts'
import { CACHE_MODES, ENVIRONMENTS, OPTIONS, type CacheMode, type EnvironmentName, type OptionSpec } from './schema.ts'
import type { FastPathConfig } from './fast-path.ts'
import { ROUTE_IDS } from '../core/route-ids.ts'

export interface Config {
  readonly envName: EnvironmentName
  readonly host: string
  readonly port: number
  /** HTTPS on the client listener; undefined: plain HTTP. */
  readonly tls: TlsConfig | undefined
  readonly admin: { readonly host: string; readonly port: number; readonly token: string | undefined; readonly metricsOpen: boolean }
  readonly legacyUrl: string | undefined
  readonly arzswUrl: string | undefined
  readonly redisUrl: string | undefined
  readonly redisKeyPrefix: string
  /** The configured redisKeySecret, or outside production the public development one (redisKeySecretIsDefault). */
  readonly redisKeySecret: string
  readonly redisKeySecretIsDefault: boolean
  /** 32 bytes, base64; undefined: cached bodies lie in Redis in clear. */
  readonly redisBodyKey: string | undefined
  readonly flags: Readonly<Partial<Record<RouteId, FlagSetting>>>
  readonly flagRefreshMs: number
  readonly shadowConcurrency: number
  readonly shadow: {
    readonly bodyCapBytes: number
    readonly samplePercent: number
    readonly sampleMaxPerSecond: number
    readonly valueMaxChars: number
    readonly mismatches: {
      readonly ringSize: number
      readonly file: string | undefined
      readonly maxFileBytes: number
      readonly keepFiles: number
      readonly fullBodies: boolean
      readonly bodyRetentionMinutes: number
    }
    readonly demotion: { readonly enabled: boolean; readonly window: number; readonly maxMismatches: number; readonly latencyMinSamples: number }
  }
  readonly upstream: {
    readonly connectTimeoutMs: number
    readonly headersTimeoutMs: number
    readonly bodyTimeoutMs: number
    readonly maxSockets: number
    readonly idleSocketTimeoutMs: number
    readonly caFile: string | undefined
    readonly queueTimeoutMs: number
    readonly maxPerClient: number
    readonly anonymousSharePercent: number
  }
  readonly limits: LimitsConfig
  readonly audit: { readonly destination: string }
  readonly forwardedHeaders: boolean
  readonly serverTiming: boolean
  readonly shutdownGraceMs: number
  readonly logLevel: string
  readonly maxPageSize: number
  readonly environment: string
  readonly avsSystem: { readonly manufacturer: string; readonly name: string; readonly version: string }
  readonly legacyProbe: { readonly login: string | undefined; readonly password: string | undefined }
  /** Which of ANSWER_SETTINGS the file, env or overrides set; the others hold the legacy code's defaults. */
  readonly answerSettingsSet: readonly string[]
  readonly demo: { readonly prefix: string; readonly rows: number }
  /** ArzSw logins that may read the performance endpoints (GET /v2/performance/metrics, /v2/health/performance). */
  readonly adminUsers: readonly string[]
  readonly performanceTargetP99Ms: number
  /** GET /v2/health/performance judges a route's p99 after this many fast answers or seconds since start. */
  readonly performanceMinSample: { readonly answers: number; readonly seconds: number }
  /** `fastPath.*`, typed and complete (config/fast-path.ts); fastPathSettingsFrom adds the proxy options the fast paths echo. */
  readonly fastPath: FastPathConfig
}

/** The legacy's settings its answers are shaped by (docs/legacy-contract.md §4): learnt from it, or set explicitly. */
export const ANSWER_SETTINGS = ['maxPageSize', 'environment', 'avsSystem.manufacturer', 'avsSystem.name', 'avsSystem.version'] as const

export interface TlsConfig {
  readonly certFile: string
  readonly keyFile: string
  readonly minVersion: 'TLSv1.2' | 'TLSv1.3'
}

export interface LimitsConfig {
  readonly enabled: boolean
  readonly default: ClassRatesConfig
  readonly premium: ClassRatesConfig
  readonly premiumTenants: readonly string[]
  readonly unverified: { readonly loginPerSecond: number; readonly loginBurst: number; readonly addressPerSecond: number; readonly addressBurst: number }
  readonly authFailures: { readonly maxFailures: number; readonly windowMs: number; readonly blockMs: number }
  readonly fastConcurrencyPerTenant: number
  readonly verifiedTrustMs: number
  readonly redisTimeoutMs: number
  readonly clientAddressHeader: string | undefined
  readonly maxBodyBytes: number
  readonly maxHeaderBytes: number
  readonly headersTimeoutMs: number
  readonly requestTimeoutMs: number
  /** A body passed to the legacy: its least average rate after the grace, and its deadline (0: none). */
  readonly bodyMinBytesPerSecond: number
  readonly bodyRateGraceMs: number
  readonly bodyTimeoutMs: number
}

export interface ClassRatesConfig {
  readonly userPerSecond: number
  readonly userBurst: number
  readonly tenantPerSecond: number
  readonly tenantBurst: number
}

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID'
  readonly problems: readonly string[]
  constructor(problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`)
    this.problems = problems
  }
}

export interface LoadOptions {
  /** Defaults to process.env; tests pass their own. */
  readonly env?: Readonly<Record<string, string | undefined>>
  /** Folder holding `<environment>.json`; defaults to this folder. */
  readonly directory?: string
  /**
   * Values that win over file and env (tests, the demo): by dotted name (`'fastPath.cache.maxStaleMs'`)
   * or nested like the file (`{ fastPath: { cache: { maxStaleMs } } }`).
   */
  readonly overrides?: Readonly<Record<string, unknown>>
}

const HERE = dirname(fileURLToPath(import.meta.url))

export function environmentName(env: Readonly<Record<string, string | undefined>>): EnvironmentName {
  const name = (env.FASTPATH_ENV || env.NODE_ENV || 'development').toLowerCase()
  if (!(ENVIRONMENTS as readonly string[]).includes(name)) {
    throw new ConfigError([`FASTPATH_ENV/NODE_ENV: "${name}" is not an environment; accepted: ${ENVIRONMENTS.join(', ')}`])
  }
  return name as EnvironmentName
}

export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env
  const envName = environmentName(env)
  const file = join(options.directory ?? HERE, `${envName}.json`)
  let fileValues: Record<string, unknown>
  try {
    fileValues = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
  } catch (error) {
    throw new ConfigError([`${file}: cannot be read as JSON (${jsonFailure(error)})`])
  }
  const problems: string[] = []
  for (const name of flatNames(fileValues)) {
    const unknown = unknownOption(name)
    if (unknown !== undefined) problems.push(`${name} (in ${file}): ${unknown}`)
  }
  const overrides = options.overrides === undefined ? {} : Object.fromEntries(flatEntries(options.overrides))
  for (const name of Object.keys(overrides)) {
    // Tests and tools build fast-path settings through overrides: a misspelt one must not fall back to its default.
    const unknown = name.startsWith('fastPath.') || name === 'fastPath' ? unknownOption(name) : undefined
    if (unknown !== undefined) problems.push(`${name}: ${unknown}`)
  }
  const values: Record<string, unknown> = {}
  const given = new Set<string>()
  for (const spec of OPTIONS) {
    let raw: unknown = readPath(fileValues, spec.name)
    let source = `${spec.name} (in ${envName}.json)`
    const fromEnv = spec.env === undefined ? undefined : env[spec.env]
    if (fromEnv !== undefined && fromEnv !== '') {
      raw = fromEnv
      source = `${spec.env} (option ${spec.name})`
    }
    if (spec.name in overrides) {
      raw = overrides[spec.name]
      source = spec.name
    }
    const checked = raw === undefined || raw === null ? { ok: true as const, value: spec.default } : validate(spec, raw)
    if (!checked.ok) problems.push(`${source}: ${checked.message}`)
    else values[spec.name] = checked.value
    if (raw !== undefined && raw !== null) given.add(spec.name)
  }
  if (!values['tls.certFile'] !== !values['tls.keyFile']) {
    problems.push('tls.certFile and tls.keyFile (TLS_CERT_FILE, TLS_KEY_FILE): set both for HTTPS on the client listener, or neither for plain HTTP')
  }
  problems.push(...redisSecretProblems(envName, values))
  problems.push(...fastPathProblems(values))
  if (problems.length > 0) throw new ConfigError(problems)
  return deepFreeze({ ...assemble(envName, values), answerSettingsSet: ANSWER_SETTINGS.filter((name) => given.has(name)) })
}

/** Issue 16 point 9: Redis must not learn guessable key names, nor hold a body key it could not open. */
function redisSecretProblems(envName: EnvironmentName, values: Record<string, unknown>): string[] {
  const problems: string[] = []
  const secret = values.redisKeySecret as string | undefined
  // Values are never echoed: they are secrets.
  if (secret !== undefined && secret.length < 32) problems.push('redisKeySecret (REDIS_KEY_SECRET): must be at least 32 characters (e.g. `openssl rand -base64 32`)')
  if (envName === 'production' && values.redisUrl !== undefined && !secret) {
    problems.push('redisKeySecret (REDIS_KEY_SECRET): required in production when redisUrl is set, the same on every instance (e.g. `openssl rand -base64 32`); without it Redis key names are reproducible from guessable tenant and login names')
  }
  const bodyKey = values.redisBodyKey as string | undefined
  if (bodyKey !== undefined && bodyKey !== '' && (!/^[A-Za-z0-9+/]+={0,2}$/.test(bodyKey.trim()) || Buffer.from(bodyKey.trim(), 'base64').length !== 32)) {
    problems.push('redisBodyKey (REDIS_BODY_KEY): must be 32 bytes in base64 (e.g. `openssl rand -base64 32`)')
  }
  return problems
}

/** Bounds between fast-path options, checked once here so the fast paths take their settings as given. */
function fastPathProblems(values: Record<string, unknown>): string[] {
  const problems: string[] = []
  const num = (name: string) => values[name] as number | undefined
  const [userRow, authTtl] = [num('fastPath.userRowRefreshMs'), num('fastPath.authCacheTtlMs')]
  if (userRow !== undefined && authTtl !== undefined && userRow > authTtl) {
    problems.push(`fastPath.userRowRefreshMs: must not exceed fastPath.authCacheTtlMs (${authTtl}), or a changed password could outlive the cache bound; got ${userRow}`)
  }
  const [entry, l1] = [num('fastPath.cache.maxEntryBytes'), num('fastPath.cache.l1MaxBytes')]
  if (entry !== undefined && l1 !== undefined && entry > l1) problems.push(`fastPath.cache.maxEntryBytes: must not exceed fastPath.cache.l1MaxBytes (${l1}), got ${entry}`)
  return problems
}

/** Why a name found in the file or the overrides is not an option, or undefined when it is one. */
function unknownOption(name: string): string | undefined {
  if (OPTIONS.some((o) => o.name === name)) return undefined
  const inside = OPTIONS.filter((o) => o.name.startsWith(`${name}.`)).map((o) => o.name)
  if (inside.length > 0) return `must be an object (the group of ${inside.join(', ')})`
  const dot = name.lastIndexOf('.')
  const group = dot < 0 ? '' : name.slice(0, dot + 1)
  const near = OPTIONS.filter((o) => o.name.startsWith(group)).map((o) => o.name)
  return `unknown option; known${group === '' ? '' : ` in ${group.slice(0, -1)}`}: ${(near.length > 0 ? near : OPTIONS.map((o) => o.name)).join(', ')}`
}

/**
 * Why the file is not JSON, without the parser's quote of it: V8 quotes the text around the error
 * (`Unexpected token 'G', ..."token": Geheim-T"...`), and a config file holds tokens and passwords
 * that would then reach the log and the audit trail of a rejected reload.
 */
function jsonFailure(error: unknown): string {
  if (!(error instanceof SyntaxError)) return (error as Error).message
  const at = /position \d+(?: \(line \d+ column \d+\))?/.exec(error.message)
  return at ? `not valid JSON at ${at[0]}` : 'not valid JSON (an unquoted value or a stray character; the text is not repeated here as it may hold a secret)'
}

function validate(spec: OptionSpec, raw: unknown): { ok: true; value: unknown } | { ok: false; message: string } {
  const type = spec.type
  const text = typeof raw === 'string' ? raw.trim() : undefined
  switch (type.kind) {
    case 'string':
      if (typeof raw !== 'string') return { ok: false, message: `must be a string, got ${JSON.stringify(raw)}` }
      return type.nonEmpty && raw === '' ? { ok: false, message: 'must not be empty' } : { ok: true, value: raw }
    case 'url': {
      if (text === undefined) return { ok: false, message: `must be a URL (${type.protocols.join(' or ')}), got ${JSON.stringify(raw)}` }
      let url: URL
      try {
        url = new URL(text)
      } catch {
        return { ok: false, message: `must be a URL (${type.protocols.join(' or ')}); the value given does not parse` }
      }
      // Never echo the value: a connection URL may carry a password.
      if (!type.protocols.includes(url.protocol)) return { ok: false, message: `must use ${type.protocols.join(' or ')}, not ${url.protocol}` }
      return { ok: true, value: text }
    }
    case 'integer': {
      const n = typeof raw === 'number' ? raw : text !== undefined && /^-?\d+$/.test(text) ? Number(text) : Number.NaN
      if (!Number.isInteger(n) || n < type.min || n > type.max) {
        return { ok: false, message: `must be an integer from ${type.min} to ${type.max}, got ${JSON.stringify(raw)}` }
      }
      return { ok: true, value: n }
    }
    case 'number': {
      const n = typeof raw === 'number' ? raw : text !== undefined && text !== '' ? Number(text) : Number.NaN
      if (!Number.isFinite(n) || n < type.min || n > type.max) return { ok: false, message: `must be a number from ${type.min} to ${type.max}, got ${JSON.stringify(raw)}` }
      return { ok: true, value: n }
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return { ok: true, value: raw }
      if (text === 'true' || text === '1') return { ok: true, value: true }
      if (text === 'false' || text === '0') return { ok: true, value: false }
      return { ok: false, message: `must be true or false (or 1/0), got ${JSON.stringify(raw)}` }
    }
    case 'choice':
      return typeof raw === 'string' && type.values.includes(raw)
        ? { ok: true, value: raw }
        : { ok: false, message: `must be one of ${type.values.join(', ')}, got ${JSON.stringify(raw)}` }
    case 'flags': {
      const flags = parseFlagMap(raw)
      return flags.ok ? flags : { ok: false, message: `${flags.message} (modes: off, shadow, on, canary:<0-100>)` }
    }
    case 'names': {
      const names = typeof raw === 'string' ? raw.split(',').map((name) => name.trim()).filter((name) => name !== '') : raw
      return Array.isArray(names) && names.every((name) => typeof name === 'string' && name !== '')
        ? { ok: true, value: [...names] }
        : { ok: false, message: `must be a list of non-empty names (JSON array, or comma-separated), got ${JSON.stringify(raw)}` }
    }
    case 'integerOrWord': {
      if (raw === type.word || text === type.word) return { ok: true, value: type.word }
      const n = typeof raw === 'number' ? raw : text !== undefined && /^-?\d+$/.test(text) ? Number(text) : Number.NaN
      if (!Number.isInteger(n) || n < type.min || n > type.max) {
        return { ok: false, message: `must be "${type.word}" or an integer from ${type.min} to ${type.max}, got ${JSON.stringify(raw)}` }
      }
      return { ok: true, value: n }
    }
    case 'cacheModes':
      return cacheModes(spec.default as Record<string, CacheMode>, raw)
  }
}

/** `{"v2.rezept.list":"cdc"}` or (env) `v2.rezept.list=cdc,v2.rezept.pharmacy=off`, merged over the default. */
function cacheModes(defaults: Record<string, CacheMode>, raw: unknown): { ok: true; value: unknown } | { ok: false; message: string } {
  let given: Record<string, unknown>
  if (typeof raw === 'string') {
    given = {}
    for (const entry of raw.split(',').map((e) => e.trim()).filter((e) => e !== '')) {
      const eq = entry.indexOf('=')
      if (eq < 0) return { ok: false, message: `"${entry}" is not <routeId>=<mode>` }
      given[entry.slice(0, eq).trim()] = entry.slice(eq + 1).trim()
    }
  } else if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) given = raw as Record<string, unknown>
  else return { ok: false, message: `must map route ids to cache modes, e.g. {"v2.rezept.list":"cdc"}, got ${JSON.stringify(raw)}` }
  for (const [routeId, mode] of Object.entries(given)) {
    if (!(ROUTE_IDS as readonly string[]).includes(routeId)) return { ok: false, message: `unknown route id "${routeId}"; accepted: ${ROUTE_IDS.join(', ')}` }
    if (!(CACHE_MODES as readonly unknown[]).includes(mode)) return { ok: false, message: `${routeId}: must be one of ${CACHE_MODES.join(', ')}, got ${JSON.stringify(mode)}` }
  }
  return { ok: true, value: { ...defaults, ...given } }
}

function assemble(envName: EnvironmentName, v: Record<string, unknown>): Omit<Config, 'answerSettingsSet'> {
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

/** The options a reload may change, named, for the reload log line. */
export function reloadableChanges(before: Config, after: Config): string[] {
  const changed: string[] = []
  for (const spec of OPTIONS) {
    if (!spec.reloadable) continue
    const a = JSON.stringify(readPath(before as unknown as Record<string, unknown>, spec.name))
    const b = JSON.stringify(readPath(after as unknown as Record<string, unknown>, spec.name))
    if (a !== b) changed.push(spec.name)
  }
  return changed
}

function readPath(values: Record<string, unknown>, dotted: string): unknown {
  if (dotted in values) return values[dotted]
  let current: unknown = values
  for (const part of dotted.split('.')) {
    if (typeof current !== 'object' || current === null) return undefined
    current = (current as Record<string, unknown>)[part]
  }
  return current
}

function flatNames(values: Record<string, unknown>): string[] {
  return flatEntries(values).map(([name]) => name)
}

/** Nested groups to dotted names; an option whose value is an object (flags, fastPath.cache.routes) stays whole. */
function flatEntries(values: Readonly<Record<string, unknown>>, prefix = ''): Array<[string, unknown]> {
  const entries: Array<[string, unknown]> = []
  for (const [key, value] of Object.entries(values)) {
    const name = prefix + key
    const isOption = OPTIONS.some((o) => o.name === name)
    if (!isOption && typeof value === 'object' && value !== null && !Array.isArray(value)) entries.push(...flatEntries(value as Record<string, unknown>, `${name}.`))
    else entries.push([name, value])
  }
  return entries
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const inner of Object.values(value)) deepFreeze(inner)
  }
  return value
}
