// Date and time text in the legacy's forms (API.md §1): PostgreSQL date/time text to .NET DateTime JSON, and DateTime.UtcNow.

const DATE_TEXT = /^\d{4}-\d{2}-\d{2}$/
const TIME_TEXT = /^(\d{2}):\d{2}:\d{2}(\.\d{1,6})?$/

/** Raised for a value .NET would not have read the same way (BC dates, 24:00:00): the request defers. */
export class UnrepresentableDateError extends Error {
  constructor(value: string) {
    super(`date/time value ${JSON.stringify(value)} has no .NET DateTime form the fast path is sure of`)
    this.name = 'UnrepresentableDateError'
  }
}

/** A `date` column at midnight: `2025-01-15T00:00:00` (without quotes). */
export function dateAtMidnight(date: string): string {
  if (!DATE_TEXT.test(date)) throw new UnrepresentableDateError(date)
  return date + 'T00:00:00'
}

/** A `date` plus a `time` column; the fraction only when non-zero, trailing zeros dropped. */
export function dateAndTime(date: string, time: string): string {
  if (!DATE_TEXT.test(date)) throw new UnrepresentableDateError(date)
  const match = TIME_TEXT.exec(time)
  if (match === null || match[1] === '24') throw new UnrepresentableDateError(time)
  let text = date + 'T' + time
  if (match[2] !== undefined) {
    let end = text.length
    while (text.charCodeAt(end - 1) === 0x30) end--
    if (text.charCodeAt(end - 1) === 0x2e) end--
    text = text.slice(0, end)
  }
  return text
}

// DateTime.UtcNow has 100 ns ticks; Date.now() has ms. Anchor the wall clock once a second and add
// performance.now()'s sub-ms part, so consecutive items carry distinct, realistic 7-digit fractions.
let anchorEpochMs = 0
let anchorPerfMs = -Infinity
let secondStartTicks = -1
let secondPrefix = ''

function nowTicks(): number {
  const perf = performance.now()
  if (perf - anchorPerfMs > 1000) {
    anchorEpochMs = Date.now()
    anchorPerfMs = perf
  }
  // Ticks since the epoch (1e-7 s); below 2^53 until the year 2255.
  return Math.floor((anchorEpochMs + (perf - anchorPerfMs)) * 10_000)
}

/** "now" as DateTime.UtcNow is written: `2025-10-19T10:30:00.1234567Z`, trailing zeros dropped. */
export function utcNowText(): string {
  const ticks = nowTicks()
  const fraction = ticks % 10_000_000
  const secondTicks = ticks - fraction
  if (secondTicks !== secondStartTicks) {
    secondStartTicks = secondTicks
    secondPrefix = new Date(secondTicks / 10_000).toISOString().slice(0, 19)
  }
  if (fraction === 0) return secondPrefix + 'Z'
  let digits = String(fraction).padStart(7, '0')
  let end = 7
  while (digits.charCodeAt(end - 1) === 0x30) end--
  if (end < 7) digits = digits.slice(0, end)
  return secondPrefix + '.' + digits + 'Z'
}
