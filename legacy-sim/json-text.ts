// Writes JSON text the way System.Text.Json's default encoder does (API.md §1): escaping, .NET date forms.

// Printable ASCII that the default JavaScriptEncoder leaves alone; everything else is escaped.
// `"` `\` `<` `>` `&` `'` `+` and backtick are escaped although printable (API.md §1).
const NEEDS_ESCAPE = /[^\x20\x21\x23-\x25\x28-\x2A\x2C-\x3B\x3D\x3F-\x5B\x5D-\x5F\x61-\x7E]/g

const SHORT_ESCAPES: Record<string, string> = { '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\\': '\\\\' }

function escapeOne(ch: string): string {
  const short = SHORT_ESCAPES[ch]
  if (short !== undefined) return short
  // One UTF-16 code unit per match, so a character above U+FFFF comes out as its two surrogates.
  return '\\u' + ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')
}

/** A JSON string literal, quotes included, escaped as System.Text.Json does by default. */
export function jsonString(value: string): string {
  NEEDS_ESCAPE.lastIndex = 0
  if (!NEEDS_ESCAPE.test(value)) return '"' + value + '"'
  NEEDS_ESCAPE.lastIndex = 0
  return '"' + value.replace(NEEDS_ESCAPE, escapeOne) + '"'
}

/** A nullable string as JSON: null is written, never omitted (API.md §1). */
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
 * trailing zeros dropped (API.md §1). null unless both are set.
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
