// Binds query parameters as MVC's [FromQuery] does (docs/legacy-contract.md §3): names case-insensitive, first value wins, int32 via Int32Converter.

/**
 * The query string as MVC sees it: lower-cased names, the first value of each, `+` as space.
 * `search` is what follows the target's first `?`; a second `?` belongs to the first name
 * (`??pageSize=2` has the name `?pageSize`, measured on the legacy: docs/legacy-contract.md §3). URLSearchParams
 * would drop a leading `?` itself, so it is given a leading `&` (an empty pair, skipped).
 */
export function readQuery(search: string): Map<string, string> {
  const query = new Map<string, string>()
  for (const [name, value] of new URLSearchParams('&' + search)) {
    const key = name.toLowerCase()
    if (!query.has(key)) query.set(key, value)
  }
  return query
}

export type IntBinding = { ok: true; value: number } | { ok: false; message: string }

const DECIMAL = /^[ \t\r\n]*[+-]?[0-9]+[ \t\r\n]*$/
const HEX = /^[0-9a-fA-F]{1,8}$/
const INT32_MIN = -2147483648
const INT32_MAX = 2147483647

/**
 * An int parameter: absent → its default; empty → "The value '' is invalid."; otherwise
 * Int32Converter's rules: decimal with sign and surrounding white space, or hex after `#`, `0x` or
 * `&h` (TypeConverter's own quirk), out of the int32 range → "The value 'x' is not valid.".
 */
export function bindInt(query: Map<string, string>, name: string, fallback: number): IntBinding {
  const raw = query.get(name.toLowerCase())
  if (raw === undefined) return { ok: true, value: fallback }
  if (raw.trim() === '') return { ok: false, message: `The value '${raw}' is invalid.` }
  // The recorded legacy names no parameter here (docs/legacy-contract.md §3): `The value 'abc' is not valid.`
  const invalid: IntBinding = { ok: false, message: `The value '${raw}' is not valid.` }
  const text = raw.trim()
  let hex: string | undefined
  if (text.startsWith('#')) hex = text.slice(1)
  else if (/^(0x|&h)/i.test(text)) hex = text.slice(2)
  if (hex !== undefined) {
    if (!HEX.test(hex)) return invalid
    return { ok: true, value: parseInt(hex, 16) | 0 } // Convert.ToInt32(s, 16) wraps 0x80000000.. to negative
  }
  if (!DECIMAL.test(raw)) return invalid
  const value = Number(text)
  if (value < INT32_MIN || value > INT32_MAX) return invalid
  return { ok: true, value }
}

/**
 * `page` (default 1) and `pageSize` (default 100), bound as MVC binds the action's int parameters:
 * both are bound, and every one that fails is listed in one validation problem (docs/legacy-contract.md §3).
 */
export function bindPaging(query: Map<string, string>): { ok: true; page: number; size: number } | { ok: false; errors: Array<[string, string]> } {
  const page = bindInt(query, 'page', 1)
  const size = bindInt(query, 'pageSize', 100)
  if (page.ok && size.ok) return { ok: true, page: page.value, size: size.value }
  const errors: Array<[string, string]> = []
  if (!page.ok) errors.push(['page', page.message])
  if (!size.ok) errors.push(['pageSize', size.message])
  return { ok: false, errors }
}
