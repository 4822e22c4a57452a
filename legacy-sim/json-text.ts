// Writes JSON text the way the legacy's System.Text.Json does (docs/legacy-contract.md §1): strings, .NET date forms.
// Strings go through the fast paths' writer (json/json-bytes.ts): one escaping, one table.
import { jsonStringText } from '../json/json-bytes.ts'

/** A JSON string literal, quotes included, escaped as the legacy's relaxed encoder does (docs/legacy-contract.md §1). */
export const jsonString: (value: string) => string = jsonStringText

/** A nullable string as JSON: null is written, never omitted (docs/legacy-contract.md §1). */
export function jsonNullableString(value: string | null): string {
  return value === null ? 'null' : jsonString(value)
}

/** A bigint column that pg handed over as text: its digits are written as they are, never via a double. */
export function jsonBigintText(value: string | null): string {
  return value === null ? 'null' : value
}

/** A PostgreSQL `date` text (YYYY-MM-DD) as a .NET DateTime at midnight: "2025-01-15T00:00:00". */
export function jsonDateAtMidnight(date: string | null): string {
  return date === null ? 'null' : '"' + date + 'T00:00:00"'
}

/**
 * A `date` plus a `time` column as one .NET DateTime: the fraction of a second only when non-zero,
 * trailing zeros dropped (docs/legacy-contract.md §1). null unless both are set.
 */
export function jsonDateAndTime(date: string | null, time: string | null): string {
  if (date === null || time === null) return 'null'
  return '"' + date + 'T' + trimFraction(time) + '"'
}

function trimFraction(time: string): string {
  const dot = time.indexOf('.')
  if (dot < 0) return time
  let end = time.length
  while (end > dot + 1 && time.charCodeAt(end - 1) === 48) end--
  return end === dot + 1 ? time.slice(0, dot) : time.slice(0, end)
}

/**
 * DateTime.UtcNow as System.Text.Json writes it: up to 7 fraction digits, trailing zeros dropped,
 * always `Z`. JavaScript's clock gives about a microsecond through performance.now().
 */
export function jsonUtcNow(): string {
  const now = performance.timeOrigin + performance.now()
  const wholeMs = Math.floor(now)
  const iso = new Date(wholeMs).toISOString() // 2025-10-19T10:30:00.123Z
  const subMs = Math.floor((now - wholeMs) * 10000) // 100 ns ticks below the millisecond
  const fraction = iso.slice(20, 23) + String(subMs).padStart(4, '0')
  return '"' + iso.slice(0, 19) + trimFraction('.' + fraction) + 'Z"'
}
