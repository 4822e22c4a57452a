// Writes JSON text straight into bytes, escaping strings exactly as the legacy's System.Text.Json does (docs/legacy-contract.md §1).

import { ESCAPE_KIND, RAW, SHORT, SHORT_ESCAPE_LETTER } from './json-escape-table.ts'

const HEX_UPPER = Buffer.from('0123456789ABCDEF', 'latin1')
// ASCII, most of every text, looked up in a table of its own first: measured a little faster than
// taking every code unit to the 64 Ki table.
const ASCII_KIND = ESCAPE_KIND.slice(0, 128)

// The text's UTF-16 code units are read from a copy made by Buffer.write(text, 'utf16le'), not with
// charCodeAt: once any `class … extends String` exists in the process — ioredis 6 declares one
// (VerbatimString), and the proxy loads ioredis — V8 in Node 24.21 runs a charCodeAt loop 4-6×
// slower (bench/probes/json-escape-micro.ts, 2026-12-03, CPU time for 1000 XMLs: the charCodeAt writer
// 6.7 ms in a bare process, 25 ms with ioredis loaded; this one 5.3 and 6.0 ms). The native copy
// keeps every unit as it is, lone surrogates included. Bytes are read in pairs, so the order is little-endian on every platform.
// Shared by all writers: string() runs synchronously from start to end.
let unitBytes = Buffer.allocUnsafeSlow(64 * 1024)
/** Texts longer than this get a copy of their own instead of growing the shared one for good. */
const MAX_KEPT_UNIT_BYTES = 4 * 1024 * 1024

function unitsOf(text: string): Buffer {
  const needed = text.length * 2
  if (needed <= unitBytes.length) return unitBytes
  if (needed > MAX_KEPT_UNIT_BYTES) return Buffer.allocUnsafeSlow(needed)
  let capacity = unitBytes.length * 2
  while (capacity < needed) capacity *= 2
  unitBytes = Buffer.allocUnsafeSlow(capacity)
  return unitBytes
}

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

  /**
   * A JSON string with quotes, escaped as the legacy writes it (docs/legacy-contract.md §1, json-escape-table.ts):
   * characters as themselves in UTF-8, the listed code units as \uXXXX (upper-case hex) or a short form.
   *
   * One pass, one table lookup and the bytes per character. Copying unescaped runs with Buffer.write
   * was measured slower (bench/probes/json-escape-micro.ts, 2026-12-03): the seeded XMLs have a `"` every 22
   * characters, and a slice plus a native call per run cost more than the loop; even escape-free
   * text was no faster through Buffer.write (utf8 from a two-byte string).
   */
  string(text: string): void {
    // Worst case: every UTF-16 unit becomes a six-byte \uXXXX (a raw one is at most 3 bytes), plus the quotes.
    const n = text.length
    this.#reserve(n * 6 + 2)
    const buffer = this.#buffer
    const units = unitsOf(text)
    const end = units.write(text, 0, 'utf16le')
    let at = this.#length
    buffer[at++] = 0x22
    for (let u = 0; u < end; u += 2) {
      const c = units[u]! | (units[u + 1]! << 8)
      if (c < 0x80) {
        const kind = ASCII_KIND[c]!
        if (kind === RAW) {
          buffer[at++] = c
          continue
        }
        if (kind === SHORT) {
          buffer[at] = 0x5c
          buffer[at + 1] = SHORT_ESCAPE_LETTER[c]!
          at += 2
          continue
        }
      } else if (ESCAPE_KIND[c] === RAW) {
        // No surrogate is RAW, so c is a whole code point: two or three UTF-8 bytes.
        if (c < 0x800) {
          buffer[at] = 0xc0 | (c >> 6)
          buffer[at + 1] = 0x80 | (c & 0x3f)
          at += 2
        } else {
          buffer[at] = 0xe0 | (c >> 12)
          buffer[at + 1] = 0x80 | ((c >> 6) & 0x3f)
          buffer[at + 2] = 0x80 | (c & 0x3f)
          at += 3
        }
        continue
      }
      buffer[at] = 0x5c
      buffer[at + 1] = 0x75
      buffer[at + 2] = HEX_UPPER[c >> 12]!
      buffer[at + 3] = HEX_UPPER[(c >> 8) & 15]!
      buffer[at + 4] = HEX_UPPER[(c >> 4) & 15]!
      buffer[at + 5] = HEX_UPPER[c & 15]!
      at += 6
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

  /** The bytes written since the last reset, as a JS string (the simulator builds its answers as text). */
  toText(): string {
    return this.#buffer.toString('utf8', 0, this.#length)
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


let textScratch: JsonBytes | undefined

/**
 * `text` as a JSON string literal in a JS string, quotes included: decoded from the very bytes
 * JsonBytes.string writes, so the simulator and the fast paths cannot escape differently.
 */
export function jsonStringText(text: string): string {
  const out = (textScratch ??= new JsonBytes())
  out.reset()
  out.string(text)
  return out.toText()
}
