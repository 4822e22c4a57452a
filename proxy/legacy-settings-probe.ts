// The settings the fast paths echo (MaxPageSize, Environment, avsSystem) must be the legacy's own, or
// every fast answer differs from the legacy's. With a probe user configured, the proxy asks the legacy
// once at start-up and refuses to start on a difference (issue 5; API.md §4).
import { ConfigError, type Config } from '../config/load.ts'
import { LegacyReader } from './shadow/legacy-reader.ts'

export type ProbeOutcome =
  | { readonly kind: 'matches'; readonly checked: readonly string[] }
  /** The legacy could not be asked (down, 401, not a list answer): the proxy starts, and says so. */
  | { readonly kind: 'unchecked'; readonly reason: string }

interface ListAnswer {
  readonly pageSize?: unknown
  readonly environment?: unknown
  readonly prescriptions?: ReadonlyArray<{ readonly avsSystem?: unknown }>
}

/**
 * Two GETs of /v2/rezept as the probe user: an unknown `type` with pageSize MaxPageSize + 1 (no query
 * runs in the legacy; it echoes its clamped pageSize and its Environment), then pageSize=1 for an
 * item's avsSystem. Throws a ConfigError naming each setting that differs.
 */
export async function probeLegacySettings(config: Config, ca: string | undefined): Promise<ProbeOutcome> {
  const probe = config.legacyProbe
  if (probe.login === undefined || config.legacyUrl === undefined) return { kind: 'unchecked', reason: 'no legacyProbe.login configured' }
  const reader = new LegacyReader(config.legacyUrl, { capBytes: 1_048_576, timeoutMs: config.upstream.headersTimeoutMs, maxSockets: 1, ca })
  const headers = { authorization: `Basic ${Buffer.from(`${probe.login}:${probe.password ?? ''}`).toString('base64')}`, accept: 'application/json' }
  try {
    // 2^31 - 1 is the largest pageSize the legacy binds; one above MaxPageSize shows whether it clamps there.
    const asked = Math.min(config.maxPageSize + 1, 2_147_483_647)
    const empty = await readList(reader, `/v2/rezept?type=fastpath-settings-probe&pageSize=${asked}`, headers)
    if (typeof empty === 'string') return { kind: 'unchecked', reason: empty }
    const differences: string[] = []
    const checked = ['maxPageSize', 'environment']
    if (empty.pageSize !== config.maxPageSize) differences.push(`maxPageSize: the legacy clamps pageSize ${asked} to ${String(empty.pageSize)}, this proxy to ${config.maxPageSize}`)
    if (empty.environment !== config.environment) differences.push(`environment: the legacy says ${JSON.stringify(empty.environment)}, this proxy ${JSON.stringify(config.environment)}`)
    const one = await readList(reader, '/v2/rezept?pageSize=1', headers)
    const avs = typeof one === 'string' ? undefined : one.prescriptions?.[0]?.avsSystem
    if (avs !== undefined) {
      checked.push('avsSystem')
      const ours = config.avsSystem
      if (JSON.stringify(avs) !== JSON.stringify({ manufacturer: ours.manufacturer, name: ours.name, version: ours.version })) {
        differences.push(`avsSystem: the legacy says ${JSON.stringify(avs)}, this proxy ${JSON.stringify(ours)}`)
      }
    }
    if (differences.length > 0) {
      throw new ConfigError(differences.map((d) => `${d} (legacyProbe: the fast paths would answer otherwise than the legacy; set the legacy's value)`))
    }
    return { kind: 'matches', checked }
  } finally {
    reader.close()
  }
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
