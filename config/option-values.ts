// Raw option values (file, env, overrides) checked against their type in config/schema.ts, and the
// dotted option names of nested config objects. Used by config/load.ts; messages never echo URLs.
import { parseFlagMap } from '../core/flag-setting.ts'
import { CACHE_MODES, OPTIONS, type CacheMode, type OptionSpec } from './schema.ts'

export type Checked = { ok: true; value: unknown } | { ok: false; message: string }

/** Why a name found in the file or the overrides is not an option, or undefined when it is one. */
export function unknownOption(name: string): string | undefined {
  if (OPTIONS.some((o) => o.name === name)) return undefined
  const inside = OPTIONS.filter((o) => o.name.startsWith(`${name}.`)).map((o) => o.name)
  if (inside.length > 0) return `must be an object (the group of ${inside.join(', ')})`
  const dot = name.lastIndexOf('.')
  const group = dot < 0 ? '' : name.slice(0, dot + 1)
  const near = OPTIONS.filter((o) => o.name.startsWith(group)).map((o) => o.name)
  return `unknown option; known${group === '' ? '' : ` in ${group.slice(0, -1)}`}: ${(near.length > 0 ? near : OPTIONS.map((o) => o.name)).join(', ')}`
}

export function validate(spec: OptionSpec, raw: unknown): Checked {
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
/** The routes whose answers a cache may keep: the two lists (on by default) and v1 GET new (opt-in). */
const CACHEABLE_ROUTE_IDS: readonly string[] = ['v2.rezept.list', 'v2.rezept.pharmacy', 'v1.prescriptions.new']

function cacheModes(defaults: Record<string, CacheMode>, raw: unknown): Checked {
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
    // Only these routes keep answers (v2.rezept.statusuuid reads fresh: routes/v2-status-by-uuid/route.ts).
    if (!CACHEABLE_ROUTE_IDS.includes(routeId)) return { ok: false, message: `unknown or uncached route id "${routeId}"; accepted: ${CACHEABLE_ROUTE_IDS.join(', ')}` }
    if (!(CACHE_MODES as readonly unknown[]).includes(mode)) return { ok: false, message: `${routeId}: must be one of ${CACHE_MODES.join(', ')}, got ${JSON.stringify(mode)}` }
  }
  return { ok: true, value: { ...defaults, ...given } }
}

export function readPath(values: Record<string, unknown>, dotted: string): unknown {
  if (dotted in values) return values[dotted]
  let current: unknown = values
  for (const part of dotted.split('.')) {
    if (typeof current !== 'object' || current === null) return undefined
    current = (current as Record<string, unknown>)[part]
  }
  return current
}

export function flatNames(values: Record<string, unknown>): string[] {
  return flatEntries(values).map(([name]) => name)
}

/** Nested groups to dotted names; an option whose value is an object (flags, fastPath.cache.routes) stays whole. */
export function flatEntries(values: Readonly<Record<string, unknown>>, prefix = ''): Array<[string, unknown]> {
  const entries: Array<[string, unknown]> = []
  for (const [key, value] of Object.entries(values)) {
    const name = prefix + key
    const isOption = OPTIONS.some((o) => o.name === name)
    if (!isOption && typeof value === 'object' && value !== null && !Array.isArray(value)) entries.push(...flatEntries(value as Record<string, unknown>, `${name}.`))
    else entries.push([name, value])
  }
  return entries
}
