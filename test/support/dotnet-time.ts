// .NET DateTime text as an instant, for tests that order timestamps: the text does not sort.
// DateTime.UtcNow's JSON form drops the fraction's trailing zeros (`…07.73751Z` is .7375100, earlier
// than `…07.7375166Z`, yet after it as text), and drops the fraction when it is zero (`…07Z`).

const DOTNET_DATE_TIME = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,7}))?(Z?)$/
const TICKS_PER_MS = 10_000n
// DateTime.Ticks counts 100-ns ticks from 0001-01-01T00:00:00.
const TICKS_AT_UNIX_EPOCH = 621_355_968_000_000_000n

/** The DateTime's Ticks (100 ns since 0001-01-01) of `yyyy-MM-ddTHH:mm:ss[.F{1,7}][Z]`; throws on anything else. */
export function dotnetTicks(text: string): bigint {
  const m = DOTNET_DATE_TIME.exec(text)
  if (!m) throw new Error(`not a .NET DateTime text: ${JSON.stringify(text)}`)
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number]
  const date = new Date(0)
  // setUTCFullYear, not Date.UTC: Date.UTC reads the years 0-99 as 1900-1999.
  date.setUTCFullYear(year, month - 1, day)
  date.setUTCHours(hour, minute, second, 0)
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || date.getUTCHours() !== hour || date.getUTCMinutes() !== minute || date.getUTCSeconds() !== second) {
    throw new Error(`not a date and time of day: ${JSON.stringify(text)}`)
  }
  const fraction = BigInt((m[7] ?? '').padEnd(7, '0'))
  return BigInt(date.getTime()) * TICKS_PER_MS + TICKS_AT_UNIX_EPOCH + fraction
}

/** For Array.prototype.sort: .NET DateTime texts by the instant they name. */
export function byDotnetInstant(a: string, b: string): number {
  const [x, y] = [dotnetTicks(a), dotnetTicks(b)]
  return x < y ? -1 : x > y ? 1 : 0
}
