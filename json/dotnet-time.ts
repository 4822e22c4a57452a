// Date and time text in the legacy's forms (docs/legacy-contract.md §1): PostgreSQL date/time text to .NET DateTime JSON, and DateTime.UtcNow.

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
// Ticks since the epoch do not fit a double exactly (1.8e16 > 2^53), so "now" is kept as whole
// milliseconds plus the ticks within the second.
let anchorEpochMs = 0
let anchorPerfMs = -Infinity
let nowSecondMs = 0
let nowFraction = 0
let prefixSecondMs = -1
let secondPrefix = ''

/** Sets nowSecondMs (the whole second, in ms since the epoch) and nowFraction (ticks within it, 0-9999999). */
function readClock(): void {
  const perf = performance.now()
  if (perf - anchorPerfMs > 1000) {
    anchorEpochMs = Date.now()
    anchorPerfMs = perf
  }
  const sinceAnchor = perf - anchorPerfMs
  const wholeMs = anchorEpochMs + Math.floor(sinceAnchor)
  const msInSecond = wholeMs % 1000
  nowSecondMs = wholeMs - msInSecond
  nowFraction = msInSecond * 10_000 + Math.floor((sinceAnchor - Math.floor(sinceAnchor)) * 10_000)
}

/** "now" as DateTime.UtcNow is written: `2025-10-19T10:30:00.1234567Z`, trailing zeros dropped. */
export function utcNowText(): string {
  readClock()
  const prefix = secondText(nowSecondMs)
  if (nowFraction === 0) return prefix + 'Z'
  let digits = String(nowFraction).padStart(7, '0')
  let end = 7
  while (digits.charCodeAt(end - 1) === 0x30) end--
  if (end < 7) digits = digits.slice(0, end)
  return prefix + '.' + digits + 'Z'
}

/**
 * "now" in the same form with all seven fraction digits (28 characters): a tick whose last digit is
 * 0, which DateTime.UtcNow would write shorter, is taken one tick (100 ns) later. Cached answers are
 * stamped in place in holes of this size (answer-template.ts).
 */
export function utcNowFullText(): string {
  readClock()
  const fraction = nowFraction % 10 === 0 ? nowFraction + 1 : nowFraction
  return secondText(nowSecondMs) + '.' + String(fraction).padStart(7, '0') + 'Z'
}

/** `2025-10-19T10:30:00` for a whole second; computed once per second. */
function secondText(secondMs: number): string {
  if (secondMs !== prefixSecondMs) {
    prefixSecondMs = secondMs
    secondPrefix = new Date(secondMs).toISOString().slice(0, 19)
  }
  return secondPrefix
}
