// A cached list answer as bytes with holes where the volatile timestamps go, refilled with "now" on every serve without parsing JSON.

/** Bytes of a hole: `2025-10-19T10:30:00.1234567Z`, the longest DateTime.UtcNow text (7 fraction digits). */
export const TIMESTAMP_BYTES = 28

// What an unfilled hole holds: DateTime.MinValue in the same form, valid JSON and plainly not "now".
const PLACEHOLDER = Buffer.from('0001-01-01T00:00:00.0000000Z', 'latin1')

/**
 * The body with the values of `responseTimestamp` and each item's `deliveryTimestamp` replaced by
 * holes of TIMESTAMP_BYTES bytes. `slots[i]` is the offset in `bytes` (between the value's quotes)
 * where the i-th hole begins, in document order, so the items come before `responseTimestamp` as
 * when the legacy writes them (docs/legacy-contract.md §4). Fixed-size holes let a copy of `bytes` be stamped in
 * place: serving a cached answer again rewrites 28 bytes per item, not the whole answer.
 */
export interface AnswerTemplate {
  readonly bytes: Buffer
  readonly slots: Uint32Array
}

/** Raised when a body is not the JSON shape the template expects: the answer is then not cached. */
export class AnswerShapeError extends Error {
  constructor(detail: string, offset: number) {
    super(`answer body cannot be templated: ${detail} at byte ${offset}`)
    this.name = 'AnswerShapeError'
  }
}

/**
 * Fills every hole of `copy` (a copy of the template's bytes, or an answer stamped before) in place:
 * the items with `itemStamp`, the rest (`responseTimestamp`, last in the document) with `lastStamp`.
 * Both must be exactly TIMESTAMP_BYTES long (utcNowFullText).
 */
export function stampAnswer(copy: Buffer, template: AnswerTemplate, itemStamp: string, lastStamp: string): void {
  const { slots } = template
  if (slots.length === 0) return
  if (itemStamp.length !== TIMESTAMP_BYTES || lastStamp.length !== TIMESTAMP_BYTES) throw new RangeError('stamps must fill their holes exactly')
  const first = slots[0]!
  copy.write(itemStamp, first, 'latin1')
  // One native copy per hole from the first: cheaper than encoding the string again.
  for (let i = 1; i < slots.length - 1; i++) copy.copyWithin(slots[i]!, first, first + TIMESTAMP_BYTES)
  if (slots.length > 1) copy.write(lastStamp, slots[slots.length - 1]!, 'latin1')
}

const QUOTE = 0x22
const BACKSLASH = 0x5c

const PRESCRIPTIONS = Buffer.from('prescriptions', 'latin1')
const RESPONSE_TIMESTAMP = Buffer.from('responseTimestamp', 'latin1')
const DELIVERY_TIMESTAMP = Buffer.from('deliveryTimestamp', 'latin1')

/**
 * Walks the JSON structure (not a text search: a key is only a key by its position) and puts holes
 * for the top-level `responseTimestamp` and the `deliveryTimestamp` of each object in `prescriptions`.
 * Throws AnswerShapeError for anything that is not a JSON object with a string `responseTimestamp`.
 */
export function templateFromBody(body: Buffer): AnswerTemplate {
  // [start, end) pairs of the values' text; what lies between them is kept.
  const cuts = timestampSpans(body)
  let delta = 0
  for (let i = 0; i < cuts.length; i += 2) delta += TIMESTAMP_BYTES - (cuts[i + 1]! - cuts[i]!)
  const bytes = Buffer.allocUnsafe(body.length + delta)
  const slots = new Uint32Array(cuts.length / 2)
  let written = 0
  let from = 0
  for (let i = 0; i < cuts.length; i += 2) {
    written += body.copy(bytes, written, from, cuts[i]!)
    slots[i / 2] = written
    written += PLACEHOLDER.copy(bytes, written)
    from = cuts[i + 1]!
  }
  body.copy(bytes, written, from)
  return { bytes, slots }
}

/**
 * Where the timestamp values of `body` lie, by the same walk: [start, end) byte offsets of each
 * value's text, in pairs, in document order. Nothing is copied (a comparison needs no template).
 * Throws AnswerShapeError like templateFromBody.
 */
export function timestampSpans(body: Buffer): number[] {
  const walk = new TimestampWalk(body)
  walk.topObject()
  if (walk.cuts.length === 0 || !walk.sawResponseTimestamp) throw new AnswerShapeError('no responseTimestamp', 0)
  return walk.cuts
}

/** A cursor over the body that records where the timestamp values lie. */
class TimestampWalk {
  readonly cuts: number[] = []
  sawResponseTimestamp = false
  readonly #body: Buffer
  #at = 0

  constructor(body: Buffer) {
    this.#body = body
  }

  topObject(): void {
    this.#expect(0x7b)
    this.#members((keyStart, keyEnd) => {
      if (this.#keyIs(keyStart, keyEnd, RESPONSE_TIMESTAMP)) {
        this.#timestampValue()
        this.sawResponseTimestamp = true
      } else if (this.#keyIs(keyStart, keyEnd, PRESCRIPTIONS) && this.#peek() === 0x5b) this.#prescriptions()
      else this.#value()
    })
    this.#space()
    if (this.#at !== this.#body.length) this.#fail('trailing bytes')
  }

  #prescriptions(): void {
    this.#at++
    if (this.#peekAfterSpace() === 0x5d) {
      this.#at++
      return
    }
    for (;;) {
      if (this.#peekAfterSpace() === 0x7b) {
        this.#at++
        this.#members((keyStart, keyEnd) => {
          if (this.#keyIs(keyStart, keyEnd, DELIVERY_TIMESTAMP)) this.#timestampValue()
          else this.#value()
        })
      } else this.#value()
      const next = this.#peekAfterSpace()
      this.#at++
      if (next === 0x5d) return
      if (next !== 0x2c) this.#fail('expected , or ] in prescriptions')
    }
  }

  /** The members of an object whose `{` was consumed, through its `}`; `onMember` reads each value. */
  #members(onMember: (keyStart: number, keyEnd: number) => void): void {
    if (this.#peekAfterSpace() === 0x7d) {
      this.#at++
      return
    }
    for (;;) {
      this.#space()
      if (this.#peek() !== QUOTE) this.#fail('expected a key')
      const keyStart = this.#at + 1
      this.#string()
      const keyEnd = this.#at - 1
      this.#space()
      this.#expect(0x3a)
      this.#space()
      onMember(keyStart, keyEnd)
      const next = this.#peekAfterSpace()
      this.#at++
      if (next === 0x7d) return
      if (next !== 0x2c) this.#fail('expected , or }')
    }
  }

  #timestampValue(): void {
    if (this.#peek() !== QUOTE) this.#fail('timestamp is not a string')
    const start = this.#at + 1
    this.#string()
    this.cuts.push(start, this.#at - 1)
  }

  #value(): void {
    const first = this.#peekAfterSpace()
    if (first === QUOTE) this.#string()
    else if (first === 0x7b) {
      this.#at++
      this.#members(() => this.#value())
    } else if (first === 0x5b) {
      this.#at++
      if (this.#peekAfterSpace() === 0x5d) {
        this.#at++
        return
      }
      for (;;) {
        this.#value()
        const next = this.#peekAfterSpace()
        this.#at++
        if (next === 0x5d) return
        if (next !== 0x2c) this.#fail('expected , or ]')
      }
    } else {
      // Number, true, false or null: runs to the next delimiter.
      const start = this.#at
      const body = this.#body
      while (this.#at < body.length) {
        const c = body[this.#at]!
        if (c === 0x2c || c === 0x7d || c === 0x5d || c <= 0x20) break
        this.#at++
      }
      if (this.#at === start) this.#fail('expected a value')
    }
  }

  /** Past a string whose opening quote is at the cursor, through its closing quote. */
  #string(): void {
    const body = this.#body
    let at = this.#at + 1
    for (;;) {
      const quote = body.indexOf(QUOTE, at)
      if (quote < 0) this.#fail('unterminated string')
      let backslashes = 0
      while (body[quote - 1 - backslashes] === BACKSLASH) backslashes++
      at = quote + 1
      if (backslashes % 2 === 0) break
    }
    this.#at = at
  }

  #keyIs(start: number, end: number, key: Buffer): boolean {
    return end - start === key.length && this.#body.compare(key, 0, key.length, start, end) === 0
  }

  #expect(byte: number): void {
    this.#space()
    if (this.#body[this.#at] !== byte) this.#fail(`expected ${String.fromCharCode(byte)}`)
    this.#at++
  }

  #peek(): number | undefined {
    return this.#body[this.#at]
  }

  #peekAfterSpace(): number | undefined {
    this.#space()
    return this.#body[this.#at]
  }

  #space(): void {
    const body = this.#body
    while (this.#at < body.length) {
      const c = body[this.#at]!
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return
      this.#at++
    }
  }

  #fail(detail: string): never {
    throw new AnswerShapeError(detail, this.#at)
  }
}
