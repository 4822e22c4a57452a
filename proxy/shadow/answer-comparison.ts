// Compares a fast answer with the legacy's: status, Content-Type, and the bodies with the volatile
// timestamps (docs/legacy-contract.md §4, §6, §7) blanked by JSON position (the answer template's walker), and says
// which JSON paths differ when they do.
import { templateFromBody, timestampSpans, type AnswerTemplate } from '../../cache/answer-template.ts'

export interface ComparedSide {
  readonly status: number
  readonly contentType: string | undefined
  readonly body: Buffer
}

export interface Difference {
  readonly path: string
  readonly legacy: string
  readonly fast: string
}

/** The body as compared: the template bytes when it is a timestamped JSON answer, else the raw bytes. */
export interface BlankedBody {
  readonly bytes: Buffer
  readonly slots: Uint32Array | undefined
}

export function blankBody(body: Buffer): BlankedBody {
  let template: AnswerTemplate
  try {
    template = templateFromBody(body)
  } catch {
    // Error answers (401 empty, 400 problem, 500 text) carry no timestamps: compared byte for byte,
    // but for a problem's trace id, new for every answer.
    const traceId = traceIdAt(body)
    return { bytes: traceId < 0 ? body : Buffer.concat([body.subarray(0, traceId), TRACE_ID_BLANK, body.subarray(traceId + TRACE_ID_LENGTH)]), slots: undefined }
  }
  return { bytes: template.bytes, slots: template.slots }
}

export function sameBlanked(a: BlankedBody, b: BlankedBody): boolean {
  if (!a.bytes.equals(b.bytes)) return false
  if (a.slots === undefined || b.slots === undefined) return a.slots === b.slots
  return a.slots.length === b.slots.length && a.slots.every((slot, i) => slot === b.slots![i])
}

export function sameAnswer(legacy: ComparedSide, fast: ComparedSide): boolean {
  return legacy.status === fast.status && legacy.contentType === fast.contentType && sameBodies(legacy.body, fast.body)
}

/**
 * The two bodies are equal apart from their volatile timestamps; the same verdict as comparing their
 * blanked forms, without copying either (every shadowed request is compared: no megabytes of garbage
 * per comparison for the GC to collect while the next client waits).
 */
export function sameBodies(a: Buffer, b: Buffer): boolean {
  const spansA = spansOf(a)
  const spansB = spansOf(b)
  if (spansA === undefined || spansB === undefined) return spansA === spansB && sameButTraceId(a, b)
  if (spansA.length !== spansB.length) return false
  let fromA = 0
  let fromB = 0
  for (let i = 0; i < spansA.length; i += 2) {
    const toA = spansA[i]!
    const toB = spansB[i]!
    if (toA - fromA !== toB - fromB || a.compare(b, fromB, toB, fromA, toA) !== 0) return false
    fromA = spansA[i + 1]!
    fromB = spansB[i + 1]!
  }
  return a.length - fromA === b.length - fromB && a.compare(b, fromB, b.length, fromA, a.length) === 0
}

// A validation problem ends `,"traceId":"00-<32 hex>-<16 hex>-00"}` (docs/legacy-contract.md §3): a
// W3C trace id of its own per answer (PATCH /v2/rezept/statusuuid answers one fast).
const TRACE_ID_TAIL = /"traceId":"00-[0-9a-f]{32}-[0-9a-f]{16}-00"\}$/
const TRACE_ID_LENGTH = 55
const TRACE_ID_BLANK = Buffer.from('~'.repeat(TRACE_ID_LENGTH))

/** Where a problem body's trace id value begins, or -1. */
function traceIdAt(body: Buffer): number {
  const tailLength = TRACE_ID_LENGTH + 14 // `"traceId":"` … `"}`
  if (body.length < tailLength || body[body.length - 1] !== 0x7d) return -1
  return TRACE_ID_TAIL.test(body.toString('latin1', body.length - tailLength)) ? body.length - TRACE_ID_LENGTH - 2 : -1
}

/** Equal bytes, or equal apart from the trace ids of two problem bodies. */
function sameButTraceId(a: Buffer, b: Buffer): boolean {
  if (a.equals(b)) return true
  const at = traceIdAt(a)
  if (at < 0 || a.length !== b.length || traceIdAt(b) !== at) return false
  return a.compare(b, 0, at, 0, at) === 0 && a.compare(b, at + TRACE_ID_LENGTH, b.length, at + TRACE_ID_LENGTH) === 0
}

function spansOf(body: Buffer): number[] | undefined {
  try {
    return timestampSpans(body)
  } catch {
    return undefined
  }
}

/**
 * What differs, for a mismatch record: status and Content-Type as pseudo-paths `status` and
 * `content-type`, then JSON paths (`$.prescriptions[3].checkLevel`) of the blanked bodies, values
 * truncated to `maxChars`, at most `maxPaths`. A body that is not JSON, or whose difference a JSON
 * parse hides (a bigint beyond 2^53), is reported at `$` from the first differing byte.
 */
export function differences(legacy: ComparedSide, fast: ComparedSide, maxChars: number, maxPaths: number): { list: Difference[]; total: number } {
  const list: Difference[] = []
  let total = 0
  const add = (path: string, a: string, b: string) => {
    total++
    if (list.length < maxPaths) list.push({ path, legacy: truncate(a, maxChars), fast: truncate(b, maxChars) })
  }
  if (legacy.status !== fast.status) add('status', String(legacy.status), String(fast.status))
  if (legacy.contentType !== fast.contentType) add('content-type', String(legacy.contentType), String(fast.contentType))
  const a = blankBody(legacy.body)
  const b = blankBody(fast.body)
  if (sameBlanked(a, b)) return { list, total }
  const before = total
  const parsedA = parseJson(a.bytes)
  const parsedB = parseJson(b.bytes)
  if (parsedA.ok && parsedB.ok) walk('$', parsedA.value, parsedB.value, add)
  if (total === before) {
    const at = firstDifference(a.bytes, b.bytes)
    add(`$ (byte ${at})`, excerpt(a.bytes, at), excerpt(b.bytes, at))
  }
  return { list, total }
}

function walk(path: string, a: unknown, b: unknown, add: (path: string, a: string, b: string) => void): void {
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.max(a.length, b.length)
    for (let i = 0; i < n; i++) {
      if (i >= a.length) add(`${path}[${i}]`, '(absent)', JSON.stringify(b[i]))
      else if (i >= b.length) add(`${path}[${i}]`, JSON.stringify(a[i]), '(absent)')
      else walk(`${path}[${i}]`, a[i], b[i], add)
    }
    return
  }
  if (isObject(a) && isObject(b)) {
    const keysA = Object.keys(a)
    const keysB = Object.keys(b)
    for (const key of keysA) {
      const child = `${path}.${key}`
      if (!(key in b)) add(child, JSON.stringify(a[key]), '(absent)')
      else walk(child, a[key], b[key], add)
    }
    for (const key of keysB) if (!(key in a)) add(`${path}.${key}`, '(absent)', JSON.stringify(b[key]))
    // Same members in another order is a difference on the wire (docs/legacy-contract.md §1: names in order).
    if (keysA.length === keysB.length && keysA.every((k) => k in b) && keysA.some((k, i) => keysB[i] !== k)) add(`${path} (member order)`, keysA.join(','), keysB.join(','))
    return
  }
  const textA = JSON.stringify(a)
  const textB = JSON.stringify(b)
  if (textA !== textB) add(path, textA, textB)
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function parseJson(bytes: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(bytes.toString('utf8')) }
  } catch {
    return { ok: false }
  }
}

function firstDifference(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i
  return n
}

function excerpt(bytes: Buffer, at: number): string {
  return at >= bytes.length ? '(end)' : bytes.subarray(at, at + 256).toString('utf8')
}

export function truncate(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `${text.slice(0, maxChars)}…(${text.length} chars)`
}
