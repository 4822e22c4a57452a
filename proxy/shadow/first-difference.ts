// Where two answers first differ and what kind of difference it is, for the mismatch record: the
// class an operator reads at a glance (`escaping`, `status-row`, …), the byte offset, the JSON member
// there, and a short context of each side with letters and digits masked (a record holds no patient
// data unless full bodies are switched on; punctuation, escapes and the JSON shape stay readable).
import { timestampSpans } from '../../cache/answer-template.ts'
import type { ComparedSide } from './answer-comparison.ts'

/**
 * - `status`, `content-type`: the status line or the Content-Type differs (the body may too).
 * - `escaping`: the same character written two ways, `\u003C` on one side and `<` on the other, or
 *   `\"` against `\u0022` (docs/legacy-contract.md §1: the legacy's encoder decides which characters it escapes).
 * - `timestamp`: a date-time written differently on the two sides (time zone, digits of the fraction);
 *   the volatile ones (responseTimestamp, deliveryTimestamp) are skipped as the comparison skips them.
 * - `status-row`: the first difference is in a member taken from a prescription's status row
 *   (`checkLevel`, `regelTrefferCode`, `statusAbfrageDatum`, …): the two sides read another row.
 * - `length`: one body is the other plus more bytes (an item or page more or less).
 * - `body`: any other difference in the bytes.
 */
export type DifferenceClass = 'status' | 'content-type' | 'escaping' | 'timestamp' | 'status-row' | 'length' | 'body'

export interface FirstDifference {
  readonly class: DifferenceClass
  /** Byte offset of the first differing body byte in the legacy's body (and in the fast one); null: equal bodies. */
  readonly offset: number | null
  readonly fastOffset: number | null
  /** The JSON member holding that byte, e.g. `$.prescriptions[3].checkLevel`; null outside JSON. */
  readonly member: string | null
  /** Up to CONTEXT_BEFORE bytes before and CONTEXT_AFTER from the offset, masked. */
  readonly legacy: string
  readonly fast: string
}

const CONTEXT_BEFORE = 20
const CONTEXT_AFTER = 40
/** Members an item takes from its status row (docs/legacy-contract.md §4 list items, §6 answers). */
const STATUS_ROW_MEMBERS = new Set(['checkLevel', 'regelTrefferCode', 'statusAbfrageDatum', 'statusAbfrageZeit', 'status', 'lastUpdated'])
const BACKSLASH = 0x5c

export function firstDifference(legacy: ComparedSide, fast: ComparedSide): FirstDifference {
  const at = firstDifferingBytes(legacy.body, fast.body)
  const head: DifferenceClass | undefined = legacy.status !== fast.status ? 'status' : legacy.contentType !== fast.contentType ? 'content-type' : undefined
  if (at === undefined) return { class: head ?? 'body', offset: null, fastOffset: null, member: null, legacy: '', fast: '' }
  const [a, b] = stepBackIntoEscape(legacy.body, fast.body, at.legacy, at.fast)
  const member = memberAt(legacy.body, a)
  const kind = head ?? classify(legacy.body, fast.body, a, b, member)
  return { class: kind, offset: a, fastOffset: b, member, legacy: context(legacy.body, a), fast: context(fast.body, b) }
}

/**
 * The first differing byte of each body, the volatile timestamps (responseTimestamp,
 * deliveryTimestamp) skipped whatever their length, as the comparison skips them. Undefined when the
 * bodies are the same apart from those.
 */
function firstDifferingBytes(a: Buffer, b: Buffer): { legacy: number; fast: number } | undefined {
  const spansA = spansOf(a)
  const spansB = spansOf(b)
  let pa = 0
  let pb = 0
  for (let k = 0; ; k += 2) {
    const endA = spansA[k] ?? a.length
    const endB = spansB[k] ?? b.length
    const n = Math.min(endA - pa, endB - pb)
    for (let i = 0; i < n; i++) if (a[pa + i] !== b[pb + i]) return { legacy: pa + i, fast: pb + i }
    if (endA - pa !== endB - pb) return { legacy: pa + n, fast: pb + n }
    if (k >= spansA.length || k >= spansB.length) return endA === a.length && endB === b.length ? undefined : { legacy: endA, fast: endB }
    pa = spansA[k + 1]!
    pb = spansB[k + 1]!
  }
}

function spansOf(body: Buffer): number[] {
  try {
    return timestampSpans(body)
  } catch {
    return []
  }
}

/** `\"` against `\u0022` first differ one byte after the backslash: start both at the escape. */
function stepBackIntoEscape(a: Buffer, b: Buffer, at: number, bt: number): [number, number] {
  if (at > 0 && bt > 0 && a[at - 1] === BACKSLASH && b[bt - 1] === BACKSLASH && escapeStarts(a, at - 1)) return [at - 1, bt - 1]
  return [at, bt]
}

/** Whether the backslash at `i` begins an escape (an even number of backslashes before it). */
function escapeStarts(bytes: Buffer, i: number): boolean {
  let run = 0
  while (i - run - 1 >= 0 && bytes[i - run - 1] === BACKSLASH) run++
  return run % 2 === 0
}

function classify(a: Buffer, b: Buffer, at: number, bt: number, member: string | null): DifferenceClass {
  if (at >= a.length || bt >= b.length) return 'length'
  const charA = jsonCharAt(a, at)
  const charB = jsonCharAt(b, bt)
  if (charA !== undefined && charB !== undefined && charA.text === charB.text && charA.bytes !== charB.bytes) return 'escaping'
  const name = member?.slice(member.lastIndexOf('.') + 1)
  if (name !== undefined && STATUS_ROW_MEMBERS.has(name)) return 'status-row'
  if (inDateTime(a, at) && inDateTime(b, bt)) return 'timestamp'
  return 'body'
}

const DATE_TIME = /\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d)?/g

/** Whether byte `at` lies in an ISO date-time (`2026-12-03T10:00:00.1234567Z`, or up to its end). */
function inDateTime(bytes: Buffer, at: number): boolean {
  const from = Math.max(0, at - 34)
  const text = bytes.toString('latin1', from, Math.min(bytes.length, at + 34))
  for (const match of text.matchAll(DATE_TIME)) {
    const start = from + match.index
    if (start <= at && at <= start + match[0].length) return true
  }
  return false
}

const SHORT_ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' }

/** The character a JSON string writes at `i` (an escape or a raw UTF-8 character) and how many bytes it took. */
function jsonCharAt(bytes: Buffer, i: number): { text: string; bytes: number } | undefined {
  if (bytes[i] !== BACKSLASH) {
    const lead = bytes[i]!
    const length = lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2
    return { text: bytes.toString('utf8', i, i + length), bytes: length }
  }
  const kind = String.fromCharCode(bytes[i + 1] ?? 0)
  if (kind !== 'u') return SHORT_ESCAPES[kind] === undefined ? undefined : { text: SHORT_ESCAPES[kind], bytes: 2 }
  const unit = (at: number) => (/^[0-9A-Fa-f]{4}$/.test(bytes.toString('latin1', at, at + 4)) ? parseInt(bytes.toString('latin1', at, at + 4), 16) : undefined)
  const high = unit(i + 2)
  if (high === undefined) return undefined
  // A surrogate pair is one character: the escaped form is 12 bytes, the raw one 4.
  if (high >= 0xd800 && high <= 0xdbff && bytes[i + 6] === BACKSLASH && bytes[i + 7] === 0x75) {
    const low = unit(i + 8)
    if (low !== undefined) return { text: String.fromCharCode(high, low), bytes: 12 }
  }
  return { text: String.fromCharCode(high), bytes: 6 }
}

/**
 * The JSON path of the member whose text holds byte `at` (`$.prescriptions[3].checkLevel`), from a
 * small scan of the legacy's body; null when the body is not JSON or the byte is between members.
 */
export function memberAt(body: Buffer, at: number): string | null {
  const stack: ({ key: string | null; expectingKey: boolean } | { index: number })[] = []
  for (let i = 0; i < Math.min(at, body.length); i++) {
    const c = body[i]!
    const top = stack.at(-1)
    if (c === 0x22 /* " */) {
      const start = i
      for (i++; i < body.length && body[i] !== 0x22; i++) if (body[i] === BACKSLASH) i++
      if (top !== undefined && 'key' in top && top.expectingKey) top.key = body.toString('utf8', start + 1, i)
    } else if (c === 0x7b /* { */) stack.push({ key: null, expectingKey: true })
    else if (c === 0x5b /* [ */) stack.push({ index: 0 })
    else if (c === 0x7d /* } */ || c === 0x5d /* ] */) stack.pop()
    else if (top === undefined) continue
    else if (c === 0x3a /* : */ && 'key' in top) top.expectingKey = false
    else if (c === 0x2c /* , */) {
      if ('index' in top) top.index++
      else {
        top.key = null
        top.expectingKey = true
      }
    }
  }
  if (stack.length === 0) return null
  let path = '$'
  for (const part of stack) path += 'index' in part ? `[${part.index}]` : part.key === null ? '' : `.${part.key}`
  return path
}

/** A short window around the offset, letters and digits masked (`a`, `A`, `0`), escapes and punctuation kept. */
function context(body: Buffer, at: number): string {
  if (at >= body.length) return '(end)'
  let from = Math.max(0, at - CONTEXT_BEFORE)
  // Start and end on whole UTF-8 characters.
  while (from > 0 && (body[from]! & 0xc0) === 0x80) from--
  let to = Math.min(body.length, at + CONTEXT_AFTER)
  while (to < body.length && (body[to]! & 0xc0) === 0x80) to++
  const text = body.toString('utf8', from, to)
  return `${from > 0 ? '…' : ''}${mask(text)}${to < body.length ? '…' : ''}`
}

/** Letters and digits hidden; a `\uXXXX` escape keeps its hex digits (they show what was escaped). */
export function mask(text: string): string {
  let out = ''
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (c === '\\' && text[i + 1] === 'u' && /^[0-9A-Fa-f]{4}$/.test(text.slice(i + 2, i + 6))) {
      out += text.slice(i, i + 6)
      i += 5
    } else if (c === '\\' && i + 1 < text.length) {
      out += text.slice(i, i + 2)
      i++
    } else if (c >= '0' && c <= '9') out += '0'
    else if (/\p{Lu}/u.test(c)) out += 'A'
    else if (/\p{L}/u.test(c)) out += 'a'
    else out += c
  }
  return out
}
