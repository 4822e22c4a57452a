// Which UTF-16 code units the legacy escapes inside JSON strings, read once from the measured table (docs/legacy-contract.md §1).
//
// The legacy is ASP.NET Core MVC on .NET 8: System.Text.Json with JavaScriptEncoder.UnsafeRelaxedJsonEscaping.
// `dotnet-json-escaping.json` (as measured on the real legacy, docs/legacy-contract.md §1.1, provenance inside) lists
// every BMP code point it was seen to escape. The set follows .NET 8's Unicode 15.0 data, so it is
// taken from that file and never from JavaScript's own Unicode tables (\p{Cn} and friends), which
// follow whatever newer Unicode the running V8 carries (the file's `net10_differs_on`: code points
// Unicode 16 assigned, which .NET 10 already writes raw).
//
// Derived at load rather than generated into a .ts file: the measured file stays the one source,
// with nothing to regenerate when it is re-measured, and building 64 Ki flags takes well under a
// millisecond at start-up.
import { readFileSync } from 'node:fs'

/** Written as itself, in UTF-8. */
export const RAW = 0
/** Written as \uXXXX, upper-case hex. */
export const HEX = 1
/** Written as a backslash and the letter in SHORT_ESCAPE_LETTER: \" \\ \b \t \n \f \r. */
export const SHORT = 2

interface MeasuredEscaping {
  observed_on: string
  escaped_bmp_count: number
  escaped_bmp_ranges: Array<[number, number]>
}

const SOURCE = new URL('./dotnet-json-escaping.json', import.meta.url)

function readMeasured(): MeasuredEscaping {
  const parsed = JSON.parse(readFileSync(SOURCE, 'utf8')) as Partial<MeasuredEscaping>
  const ranges = parsed.escaped_bmp_ranges
  if (!Array.isArray(ranges) || typeof parsed.escaped_bmp_count !== 'number') {
    throw new Error(`${SOURCE.pathname}: escaped_bmp_ranges and escaped_bmp_count are required`)
  }
  let count = 0
  for (const range of ranges) {
    const [from, to] = range
    if (!Number.isInteger(from) || !Number.isInteger(to) || from < 1 || from > to || to > 0x10ffff) {
      throw new Error(`${SOURCE.pathname}: ${JSON.stringify(range)} is not a range of code points`)
    }
    count += to - from + 1
  }
  // The count was written by the measurement, beside the ranges: a truncated or edited file fails here.
  if (count !== parsed.escaped_bmp_count) {
    throw new Error(`${SOURCE.pathname}: the ranges hold ${count} code points, escaped_bmp_count says ${parsed.escaped_bmp_count}`)
  }
  return parsed as MeasuredEscaping
}

const SHORT_FORMS: ReadonlyArray<[number, string]> = [[0x22, '"'], [0x5c, '\\'], [0x08, 'b'], [0x09, 't'], [0x0a, 'n'], [0x0c, 'f'], [0x0d, 'r']]

/** RAW, HEX or SHORT for each UTF-16 code unit. */
export const ESCAPE_KIND = new Uint8Array(0x10000)
/** For the SHORT code units (all ASCII), the letter after the backslash. */
export const SHORT_ESCAPE_LETTER = new Uint8Array(128)

const measured = readMeasured()
for (const [from, to] of measured.escaped_bmp_ranges) {
  // The measurement also lists the three supplementary characters it sent (U+10000, U+1F600,
  // U+10FFFD); every code point above U+FFFF is escaped, through its surrogates, below.
  for (let c = from; c <= Math.min(to, 0xffff); c++) ESCAPE_KIND[c] = HEX
}
// U+0000 was not measured (PostgreSQL text cannot hold it); it is a Cc control, escaped like U+0001.
ESCAPE_KIND[0] = HEX
// Surrogates, paired or lone, are escaped one by one: a character above U+FFFF becomes two \uXXXX.
ESCAPE_KIND.fill(HEX, 0xd800, 0xe000)
for (const [c, letter] of SHORT_FORMS) {
  if (ESCAPE_KIND[c] !== HEX) throw new Error(`${SOURCE.pathname}: U+${c.toString(16)} has a short escape but is not listed`)
  ESCAPE_KIND[c] = SHORT
  SHORT_ESCAPE_LETTER[c] = letter.charCodeAt(0)
}
