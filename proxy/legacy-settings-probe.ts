// The settings the fast paths echo (MaxPageSize, Environment, avsSystem) must be the legacy's own, or
// every fast answer differs from the legacy's (issue 5, issue 17; docs/legacy-contract.md §4). With a probe user the
// proxy reads them from the legacy at start and on every reload and uses them; values set in the
// config are assertions. Without them learnt or set, `on` and `canary` are refused.
import { ANSWER_SETTINGS, ConfigError, type Config } from '../config/load.ts'
import type { FlagSetting } from '../core/flag-setting.ts'
import { LegacyReader } from './shadow/legacy-reader.ts'

/** Where the answer-shaping settings in use came from. */
export type AnswerSettingsSource =
  /** Read from the legacy (`learnt`); any not readable were set explicitly. */
  | { readonly kind: 'learnt'; readonly learnt: readonly string[] }
  /** Not read (no probe user, or the legacy could not be asked), but every one set explicitly. */
  | { readonly kind: 'explicit'; readonly reason: string }
  /** Some are the legacy code's defaults, unconfirmed: fast answers may differ, so only off/shadow. */
  | { readonly kind: 'unknown'; readonly reason: string; readonly missing: readonly string[] }

export interface LearntSettings {
  /** The config with the legacy's values in maxPageSize, environment and avsSystem. */
  readonly config: Config
  readonly source: AnswerSettingsSource
  /** The ANSWER_SETTINGS actually read from the legacy this time (none when it could not be asked). */
  readonly read: readonly string[]
}

interface ListAnswer {
  readonly pageSize?: unknown
  readonly environment?: unknown
  readonly prescriptions?: ReadonlyArray<{ readonly avsSystem?: unknown }>
}

/** 2^31 - 1, the largest pageSize the legacy binds: it echoes it clamped to its MaxPageSize. */
const LARGEST_PAGE_SIZE = 2_147_483_647

/**
 * Two GETs of /v2/rezept as the probe user: an unknown `type` with the largest pageSize (no query
 * runs in the legacy; it echoes pageSize clamped to MaxPageSize, and its Environment), then
 * pageSize=1 for an item's avsSystem. A value set in the config that differs is a ConfigError naming
 * it; a legacy that cannot be asked is not (the source says why, and on/canary wait for a reload).
 */
export async function learnLegacySettings(config: Config, ca: string | undefined): Promise<LearntSettings> {
  const probe = config.legacyProbe
  const set = new Set(config.answerSettingsSet)
  const notLearnt = (reason: string): LearntSettings => {
    const missing = ANSWER_SETTINGS.filter((name) => !set.has(name))
    return { config, read: [], source: missing.length === 0 ? { kind: 'explicit', reason } : { kind: 'unknown', reason, missing } }
  }
  if (config.legacyUrl === undefined) return notLearnt('no legacyUrl')
  if (probe.login === undefined) return notLearnt('no probe user (legacyProbe.login / LEGACY_PROBE_LOGIN) is configured')
  const reader = new LegacyReader(config.legacyUrl, { capBytes: 1_048_576, timeoutMs: config.upstream.headersTimeoutMs, maxSockets: 1, ca })
  const headers = { authorization: `Basic ${Buffer.from(`${probe.login}:${probe.password ?? ''}`).toString('base64')}`, accept: 'application/json' }
  try {
    const empty = await readList(reader, `/v2/rezept?type=fastpath-settings-probe&pageSize=${LARGEST_PAGE_SIZE}`, headers)
    if (typeof empty === 'string') return notLearnt(`the probe could not read the legacy's settings: ${empty}`)
    if (typeof empty.pageSize !== 'number' || !Number.isInteger(empty.pageSize) || typeof empty.environment !== 'string') {
      return notLearnt('the probe could not read the legacy\'s settings: its list answer has no pageSize or environment')
    }
    const learnt: Record<string, unknown> = { maxPageSize: empty.pageSize, environment: empty.environment }
    const one = await readList(reader, '/v2/rezept?pageSize=1', headers)
    const avs = typeof one === 'string' ? undefined : one.prescriptions?.[0]?.avsSystem
    if (isAvsSystem(avs)) {
      learnt['avsSystem.manufacturer'] = avs.manufacturer
      learnt['avsSystem.name'] = avs.name
      learnt['avsSystem.version'] = avs.version
    }
    const differences: string[] = []
    for (const [name, value] of Object.entries(learnt)) {
      const ours = valueOf(config, name)
      if (set.has(name) && ours !== value) differences.push(`${name}: the legacy says ${JSON.stringify(value)}, this proxy's configuration ${JSON.stringify(ours)}`)
    }
    if (differences.length > 0) {
      throw new ConfigError(differences.map((d) => `${d} (legacyProbe: the fast paths would answer otherwise than the legacy; set the legacy's value, or leave it unset to use the legacy's)`))
    }
    const avsSystem = isAvsSystem(avs) ? { manufacturer: avs.manufacturer, name: avs.name, version: avs.version } : config.avsSystem
    const learntConfig = Object.freeze({ ...config, maxPageSize: empty.pageSize, environment: empty.environment, avsSystem: Object.freeze(avsSystem) })
    const missing = ANSWER_SETTINGS.filter((name) => !(name in learnt) && !set.has(name))
    if (missing.length > 0) {
      return { config: learntConfig, read: Object.keys(learnt), source: { kind: 'unknown', reason: `the probe user sees no prescription, so avsSystem could not be read (${typeof one === 'string' ? one : 'empty list'}); give a probe user who has one, or set avsSystem.* explicitly`, missing } }
    }
    return { config: learntConfig, read: Object.keys(learnt), source: { kind: 'learnt', learnt: Object.keys(learnt) } }
  } finally {
    reader.close()
  }
}

/** Whether two configs shape answers alike (`names`: only those settings). */
export function sameAnswerSettings(a: Config, b: Config, names: readonly string[] = ANSWER_SETTINGS): boolean {
  return names.every((name) => valueOf(a, name) === valueOf(b, name))
}

/** Why `on`/`canary` may not be set while the settings are unknown; undefined when it may. */
export function fastModeRefusal(source: AnswerSettingsSource, flag: FlagSetting): string | undefined {
  if (source.kind !== 'unknown' || (flag.mode !== 'on' && flag.mode !== 'canary')) return undefined
  return `mode "${flag.mode}" refused: the proxy does not know the legacy's ${source.missing.join(', ')} (${source.reason}); ` +
    'fast answers could differ from the legacy\'s. Configure a probe user (legacyProbe.login and legacyProbe.password, env LEGACY_PROBE_LOGIN/LEGACY_PROBE_PASSWORD) ' +
    'so they are read from the legacy, or set maxPageSize, environment and avsSystem.* explicitly; "off" and "shadow" are always accepted'
}

function valueOf(config: Config, name: string): unknown {
  if (name.startsWith('avsSystem.')) return config.avsSystem[name.slice('avsSystem.'.length) as 'name']
  return config[name as 'maxPageSize' | 'environment']
}

function isAvsSystem(value: unknown): value is { manufacturer: string; name: string; version: string } {
  const v = value as { manufacturer?: unknown; name?: unknown; version?: unknown } | undefined
  return typeof v === 'object' && v !== null && typeof v.manufacturer === 'string' && typeof v.name === 'string' && typeof v.version === 'string'
}

async function readList(reader: LegacyReader, target: string, headers: Record<string, string>): Promise<ListAnswer | string> {
  const answer = await reader.read(target, headers)
  if (answer === undefined) return `the legacy did not answer GET ${target}`
  if (answer.status !== 200) return `the legacy answered GET ${target} with ${answer.status}`
  try {
    return JSON.parse(answer.body.toString('utf8')) as ListAnswer
  } catch {
    return `the legacy's answer to GET ${target} is not JSON`
  }
}
