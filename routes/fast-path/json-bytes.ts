// Writes JSON text straight into bytes, escaping strings exactly as System.Text.Json's default encoder does (API.md §1).

// Escape for each ASCII code, or '' where the character is written as itself (API.md §1 table).
const ASCII_ESCAPES: string[] = []
for (let c = 0; c < 128; c++) {
  let escape = ''
  if (c < 0x20 || c === 0x7f) escape = '\\u00' + c.toString(16).toUpperCase().padStart(2, '0')
  if (c === 0x08) escape = '\\b'
  if (c === 0x0c) escape = '\\f'
  if (c === 0x0a) escape = '\\n'
  if (c === 0x0d) escape = '\\r'
  if (c === 0x09) escape = '\\t'
  if (c === 0x5c) escape = '\\\\'
  // HTML-sensitive characters the default encoder refuses to write raw.
  if (c === 0x22 || c === 0x3c || c === 0x3e || c === 0x26 || c === 0x27 || c === 0x2b || c === 0x60) {
    escape = '\\u00' + c.toString(16).toUpperCase()
  }
  ASCII_ESCAPES.push(escape)
}
// The escapes as bytes, six per code (the longest is \u00XX), and their lengths (0: written as itself).
// One table lookup per character beat copying unescaped runs: 1000 bench XMLs (3.6 MB) 18 ms → 11 ms
// (bench/json-escape-micro.ts); XML escapes every few characters, so runs are short anyway.
const ESCAPE_BYTES = new Uint8Array(128 * 6)
const ESCAPE_LENGTH = new Uint8Array(128)
for (let c = 0; c < 128; c++) {
  const escape = ASCII_ESCAPES[c]!
  ESCAPE_LENGTH[c] = escape.length
  for (let k = 0; k < escape.length; k++) ESCAPE_BYTES[c * 6 + k] = escape.charCodeAt(k)
}
const HEX_UPPER = Buffer.from('0123456789ABCDEF', 'latin1')

// Start at 1 MiB: a 100-item page of 8 KB XML fits without growing.
const INITIAL_CAPACITY = 1 << 20

/**
 * An append-only byte buffer for one answer. The scratch memory is reused between answers (one
 * answer is written synchronously at a time); `toBuffer()` copies out exactly the bytes written.
 */
export class JsonBytes {
  #buffer: Buffer = Buffer.allocUnsafe(INITIAL_CAPACITY)
  #length = 0

  reset(): void {
    this.#length = 0
  }

  get length(): number {
    return this.#length
  }

  #reserve(bytes: number): void {
    const needed = this.#length + bytes
    if (needed <= this.#buffer.length) return
    let capacity = this.#buffer.length * 2
    while (capacity < needed) capacity *= 2
    const grown = Buffer.allocUnsafe(capacity)
    this.#buffer.copy(grown, 0, 0, this.#length)
    this.#buffer = grown
  }

  /** Bytes known to be JSON already (a precomputed prefix, a separator). */
  bytes(chunk: Buffer): void {
    this.#reserve(chunk.length)
    chunk.copy(this.#buffer, this.#length)
    this.#length += chunk.length
  }

  /** ASCII text that needs no escaping: digits from PostgreSQL, literals, date forms. */
  ascii(text: string): void {
    this.#reserve(text.length)
    this.#length += this.#buffer.write(text, this.#length, 'latin1')
  }

  /** A JSON string with quotes, escaped as System.Text.Json's default encoder does. */
  string(text: string): void {
    // Worst case: every UTF-16 unit becomes a six-byte \uXXXX escape, plus the quotes.
    this.#reserve(text.length * 6 + 2)
    const buffer = this.#buffer
    let at = this.#length
    buffer[at++] = 0x22
    const n = text.length
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i)
      if (c < 128) {
        const length = ESCAPE_LENGTH[c]!
        if (length === 0) {
          buffer[at++] = c
        } else {
          const from = c * 6
          for (let k = 0; k < length; k++) buffer[at++] = ESCAPE_BYTES[from + k]!
        }
      } else {
        // Outside ASCII: \uXXXX with upper-case hex, surrogates one by one (API.md §1).
        buffer[at] = 0x5c
        buffer[at + 1] = 0x75
        buffer[at + 2] = HEX_UPPER[c >> 12]!
        buffer[at + 3] = HEX_UPPER[(c >> 8) & 15]!
        buffer[at + 4] = HEX_UPPER[(c >> 4) & 15]!
        buffer[at + 5] = HEX_UPPER[c & 15]!
        at += 6
      }
    }
    buffer[at++] = 0x22
    this.#length = at
  }

  /** A JSON string, or `null` for a database NULL. */
  nullableString(text: string | null): void {
    if (text === null) this.ascii('null')
    else this.string(text)
  }

  /** A copy of the bytes written since the last reset. */
  toBuffer(): Buffer {
    const out = Buffer.allocUnsafe(this.#length)
    this.#buffer.copy(out, 0, 0, this.#length)
    return out
  }

  /**
   * As toBuffer, in memory of its own: a small Buffer from toBuffer may be a slice of Node's shared
   * 8 KiB pool, which a long-kept copy would hold whole.
   */
  toOwnBuffer(): Buffer {
    const out = Buffer.allocUnsafeSlow(this.#length)
    this.#buffer.copy(out, 0, 0, this.#length)
    return out
  }
}
