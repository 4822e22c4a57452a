// What a route's flag may say (off, shadow, on, canary with a percentage) and the one parser for it,
// shared by the config file, FASTPATH_FLAGS, the admin API and the values stored in Redis.
import { ROUTE_IDS, type RouteId } from './route-ids.ts'

export type FlagSetting =
  | { readonly mode: 'off' }
  | { readonly mode: 'shadow' }
  | { readonly mode: 'on' }
  | { readonly mode: 'canary'; readonly percent: number }

export const FLAG_MODES = ['off', 'shadow', 'on', 'canary'] as const
export const FLAG_OFF: FlagSetting = Object.freeze({ mode: 'off' })
export const FLAG_SHADOW: FlagSetting = Object.freeze({ mode: 'shadow' })

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string }

export function isRouteId(value: string): value is RouteId {
  return (ROUTE_IDS as readonly string[]).includes(value)
}

const CANARY_FORMS = '{"mode":"canary","percent":10} or {"mode":"canary:10"}'

/**
 * `{"mode":"on"}`, `{"mode":"canary","percent":10}` or `{"mode":"canary:10"}` (the FASTPATH_FLAGS
 * syntax) as it comes off the wire or out of a file.
 */
export function parseFlagSetting(value: unknown): Parsed<FlagSetting> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, message: `a flag must be an object like {"mode":"on"}, ${CANARY_FORMS}` }
  }
  const { mode, percent } = value as { mode?: unknown; percent?: unknown }
  if (typeof mode === 'string' && mode.startsWith('canary:')) {
    if (percent !== undefined) return { ok: false, message: `give the percent once: ${CANARY_FORMS}, not both` }
    const text = mode.slice('canary:'.length)
    return parseFlagSetting({ mode: 'canary', percent: /^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN })
  }
  if (mode === 'off' || mode === 'shadow' || mode === 'on') {
    if (percent !== undefined) return { ok: false, message: `"percent" is only accepted with mode "canary", not "${mode}"` }
    return { ok: true, value: Object.freeze({ mode }) }
  }
  if (mode === 'canary') {
    if (typeof percent !== 'number' || !Number.isFinite(percent) || percent < 0 || percent > 100) {
      return { ok: false, message: `mode "canary" needs a percent from 0 to 100: ${CANARY_FORMS}` }
    }
    return { ok: true, value: Object.freeze({ mode, percent }) }
  }
  return { ok: false, message: `unknown mode ${JSON.stringify(mode)}; accepted: off, shadow, on, canary (${CANARY_FORMS})` }
}

/** One flag in its text form: `off`, `shadow`, `on`, `canary:10`. */
export function parseFlagText(text: string): Parsed<FlagSetting> {
  const [mode, percentText, extra] = text.trim().split(':')
  if (extra !== undefined) return { ok: false, message: `"${text}" has more than one ":"` }
  if (mode === 'canary') {
    const percent = percentText === undefined || percentText === '' ? Number.NaN : Number(percentText)
    return parseFlagSetting({ mode, percent })
  }
  if (percentText !== undefined) return { ok: false, message: `"${text}": only canary takes a ":<percent>"` }
  return parseFlagSetting({ mode })
}

export function flagText(flag: FlagSetting): string {
  return flag.mode === 'canary' ? `canary:${flag.percent}` : flag.mode
}

/** `v2.rezept.list=on,v2.rezept.pharmacy=canary:10` (the FASTPATH_FLAGS form). */
export function parseFlagList(text: string): Parsed<Partial<Record<RouteId, FlagSetting>>> {
  const flags: Partial<Record<RouteId, FlagSetting>> = {}
  for (const entry of text.split(',')) {
    if (entry.trim() === '') continue
    const eq = entry.indexOf('=')
    const routeId = (eq < 0 ? entry : entry.slice(0, eq)).trim()
    if (eq < 0) return { ok: false, message: `"${entry.trim()}" is not <routeId>=<mode>` }
    if (!isRouteId(routeId)) return { ok: false, message: `unknown route id "${routeId}"; accepted: ${ROUTE_IDS.join(', ')}` }
    const flag = parseFlagText(entry.slice(eq + 1))
    if (!flag.ok) return { ok: false, message: `${routeId}: ${flag.message}` }
    flags[routeId] = flag.value
  }
  return { ok: true, value: flags }
}

/** Flags from a config file: `{ "v2.rezept.list": "on" }` or `{ "v2.rezept.list": {"mode":"on"} }`. */
export function parseFlagMap(value: unknown): Parsed<Partial<Record<RouteId, FlagSetting>>> {
  if (typeof value === 'string') return parseFlagList(value)
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, message: 'must be an object mapping route ids to modes' }
  }
  const flags: Partial<Record<RouteId, FlagSetting>> = {}
  for (const [routeId, raw] of Object.entries(value)) {
    if (!isRouteId(routeId)) return { ok: false, message: `unknown route id "${routeId}"; accepted: ${ROUTE_IDS.join(', ')}` }
    const flag = typeof raw === 'string' ? parseFlagText(raw) : parseFlagSetting(raw)
    if (!flag.ok) return { ok: false, message: `${routeId}: ${flag.message}` }
    flags[routeId] = flag.value
  }
  return { ok: true, value: flags }
}
