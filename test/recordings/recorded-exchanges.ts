// Reads the real legacy's recorded exchanges (test/fixtures/legacy-recordings), replays one request
// exactly as recorded, and compares an answer with the recording (blanking, escaping-only check, diagnostics).
import { readFile } from 'node:fs/promises'
import { gunzipSync } from 'node:zlib'
import { rawExchange } from '../proxy/support/raw-exchange.ts'

export interface RecordedExchange {
  /** Position in the recording file, from 0. */
  readonly index: number
  readonly method: string
  /** The request target exactly as the recorder sent it. */
  readonly path: string
  /** `Authorization` is a list when the recorder sent it twice. */
  readonly headers: Readonly<Record<string, string | readonly string[]>>
  readonly bodySent: string | null
  readonly status: number
  /** Empty when the legacy sent no Content-Type. */
  readonly contentType: string
  readonly body: string
}

export interface ReplayedAnswer {
  readonly status: number
  readonly contentType: string
  readonly body: Buffer
  readonly headers: readonly [string, string][]
}

const FIXTURES = new URL('../fixtures/legacy-recordings/', import.meta.url)

export async function readRecording(file: string): Promise<RecordedExchange[]> {
  const text = gunzipSync(await readFile(new URL(file, FIXTURES))).toString('utf8')
  return text.split('\n').filter((line) => line !== '').map((line, index) => {
    const r = JSON.parse(line) as Record<string, unknown>
    return {
      index,
      method: r.method as string,
      path: r.path as string,
      headers: r.headers as Record<string, string | string[]>,
      bodySent: (r.body_sent as string | null) ?? null,
      status: r.status as number,
      contentType: (r.content_type as string | null) ?? '',
      body: r.body as string,
    }
  })
}

/** The header lines as the recorder sent them: a list value becomes two lines of the same name. */
export function headerLines(recorded: RecordedExchange): string[] {
  const lines: string[] = []
  for (const [name, value] of Object.entries(recorded.headers)) {
    if (typeof value === 'string') lines.push(name, value)
    else for (const v of value) lines.push(name, v)
  }
  if (recorded.bodySent !== null) lines.push('Content-Type', 'application/json')
  return lines
}

/** Sends the recorded request byte for byte (raw target, duplicate headers kept) to `baseUrl`. */
export async function replay(baseUrl: string, recorded: RecordedExchange): Promise<ReplayedAnswer> {
  const answer = await rawExchange(baseUrl, {
    method: recorded.method,
    target: recorded.path,
    headers: headerLines(recorded),
    ...(recorded.bodySent === null ? {} : { body: Buffer.from(recorded.bodySent, 'utf8') }),
  }, 60_000)
  const contentType = answer.headers.find(([name]) => name.toLowerCase() === 'content-type')?.[1] ?? ''
  return { status: answer.status, contentType, body: answer.body, headers: answer.headers }
}

// String values that differ on every call (docs/legacy-contract.md §4, §6; the problem details' traceId). With the
// legacy's escaping a `"` inside a string is `\"`, so `"key":"` can only be a property.
const VOLATILE = /"(responseTimestamp|deliveryTimestamp|timestamp|traceId)":"(?:[^"\\]|\\.)*"/g

export function blankVolatile(text: string): string {
  return text.replace(VOLATILE, '"$1":""')
}

/** The recorded ASP.NET Core developer exception page (Development only): only its status is compared. */
export function isDeveloperExceptionPage(recorded: RecordedExchange): boolean {
  return recorded.contentType.startsWith('text/plain') && recorded.body.startsWith('System.NotImplementedException')
}

/** The same JSON value written with JSON.stringify's escaping, or null when the text is no JSON. */
export function canonicalJson(text: string): string | null {
  try {
    return JSON.stringify(JSON.parse(text))
  } catch {
    return null
  }
}

/** Where two texts first differ, with ~60 characters of context each side; null when equal. */
export function firstDifference(expected: string, actual: string, context = 60): string | null {
  if (expected === actual) return null
  let i = 0
  while (i < expected.length && i < actual.length && expected.charCodeAt(i) === actual.charCodeAt(i)) i++
  const from = Math.max(0, i - context)
  const show = (s: string) => JSON.stringify(s.slice(from, i + context))
  return `first difference at offset ${i} (lengths ${expected.length} recorded, ${actual.length} replayed)\n` +
    `      recorded: ${show(expected)}\n      replayed: ${show(actual)}`
}

/**
 * The texts of the elements of the top-level array under `key` (e.g. "prescriptions"), and the text
 * before and after that array. Scans strings and nesting; no JSON round trip, so bytes are kept.
 */
export function splitArray(text: string, key: string): { head: string; items: string[]; tail: string } | null {
  const marker = `"${key}":[`
  const start = text.indexOf(marker)
  if (start < 0) return null
  const items: string[] = []
  let depth = 0
  let inString = false
  let itemStart = start + marker.length
  for (let i = itemStart; i < text.length; i++) {
    const c = text[i]!
    if (inString) {
      if (c === '\\') i++
      else if (c === '"') inString = false
      continue
    }
    if (c === '"') inString = true
    else if (c === '{' || c === '[') depth++
    else if (c === '}' || (c === ']' && depth > 0)) depth--
    else if (c === ',' && depth === 0) {
      items.push(text.slice(itemStart, i))
      itemStart = i + 1
    } else if (c === ']' && depth === 0) {
      if (i > itemStart) items.push(text.slice(itemStart, i))
      return { head: text.slice(0, start + marker.length), items, tail: text.slice(i) }
    }
  }
  return null
}

/** A one-line name of a recorded request for diagnostics. */
export function describe(recorded: RecordedExchange): string {
  const headers = Object.entries(recorded.headers)
    .map(([name, value]) => name === 'Authorization' ? `${name}:${Array.isArray(value) ? `[${value.length}×]` : userOf(value as string) ?? '(other)'}` : `${name}:${String(value)}`)
  const body = recorded.bodySent === null ? '' : ` body=${JSON.stringify(recorded.bodySent.slice(0, 40))}`
  return `#${recorded.index} ${recorded.method} ${recorded.path} {${headers.join(' ')}}${body} → ${recorded.status}`
}

/** The login name of a Basic credential, or null. */
export function userOf(authorization: string | readonly string[] | undefined): string | null {
  if (typeof authorization !== 'string' || !authorization.startsWith('Basic ')) return null
  const decoded = Buffer.from(authorization.slice(6), 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  return colon < 0 ? null : decoded.slice(0, colon)
}
