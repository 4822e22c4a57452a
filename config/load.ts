// Reads the environment's config file and the env overrides, validates every option against the
// schema table once, and returns a frozen typed Config. Errors name the option and what it accepts.
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { RouteId } from '../core/route-ids.ts'
import type { FlagSetting } from '../core/flag-setting.ts'
import { ENVIRONMENTS, OPTIONS, type EnvironmentName } from './schema.ts'
import type { FastPathConfig } from './fast-path.ts'
import { assemble } from './assemble.ts'
import { flatEntries, flatNames, readPath, unknownOption, validate } from './option-values.ts'

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
  readonly tracing: TracingConfig
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

/** Traces (docs/operations.md "Traces"): exporter `none` creates no span and does no context work. */
export interface TracingConfig {
  readonly exporter: 'none' | 'otlp'
  /** Undefined: the OTLP exporter's own reading of OTEL_EXPORTER_OTLP_ENDPOINT, else its default. */
  readonly endpoint: string | undefined
  readonly sampler: 'always_on' | 'always_off' | 'traceidratio' | 'parentbased_always_on' | 'parentbased_always_off' | 'parentbased_traceidratio'
  readonly samplerArg: number
  readonly serviceName: string
}

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


function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const inner of Object.values(value)) deepFreeze(inner)
  }
  return value
}
