// Escaped JSON strings kept for reuse: the xmlRequest texts are 90 % of an answer's bytes, and escaping
// them was more than half of the uncached fast path's CPU (35 ms of 55 ms for a 1000-item page, profile
// of 2026-11-23, docs/fast-path.md). A prescription's XML is read again on every poll until the ARZ
// takes it, so its escaped form is kept and reused.
//
// Never stale by construction: an entry is used only when the text the database returned now is equal
// to the text it was made from, so a row changed under the same key is escaped afresh. Escaping is a
// pure function of the text; the key only finds the candidate (and keeps tenants apart anyway).
import { LRUCache } from 'lru-cache'
import { JsonBytes } from './json-bytes.ts'

/**
 * Texts shorter than this are escaped each time: the lookup would cost about as much as the escape.
 * Measured with the relaxed-encoder writer (bench/probes/json-escape-micro.ts, 2026-12-03, CPU time, hits
 * only): at 128 units escaping is 1.2× faster than the memo, at 256 the memo 1.2-1.4× faster, at 2048 3×.
 */
const MIN_MEMO_LENGTH = 256

interface Escaped {
  /** The text as the database returned it; compared in full before `json` is used. */
  readonly text: string
  /** `text` as a JSON string, quotes included. */
  readonly json: Buffer
}

export class EscapedTextMemo {
  readonly #entries: LRUCache<string, Escaped> | undefined
  readonly #scratch = new JsonBytes()
  readonly #minLength: number
  hits = 0
  misses = 0

  /**
   * `maxBytes` 0: nothing is kept, every text is escaped as it is written. `minLength`: texts shorter
   * than this are always escaped (the micro-benchmark lowers it to find where the memo pays).
   */
  constructor(maxBytes: number, minLength = MIN_MEMO_LENGTH) {
    this.#minLength = minLength
    this.#entries = maxBytes > 0
      ? new LRUCache<string, Escaped>({
        maxSize: maxBytes,
        // A one-byte string holds a byte per character, a two-byte one two; counted as two, the worst case.
        sizeCalculation: (entry) => entry.text.length * 2 + entry.json.length,
      })
      : undefined
  }

  /** Writes `text` as a JSON string into `out`; `key` names the text's source (tenant, table, row). */
  write(out: JsonBytes, key: string, text: string): void {
    const entries = this.#entries
    if (entries === undefined || text.length < this.#minLength) {
      out.string(text)
      return
    }
    const known = entries.get(key)
    if (known !== undefined && known.text === text) {
      this.hits++
      out.bytes(known.json)
      return
    }
    this.misses++
    const scratch = this.#scratch
    scratch.reset()
    scratch.string(text)
    const json = scratch.toOwnBuffer()
    entries.set(key, { text, json })
    out.bytes(json)
  }

  /** Bytes held (tests, metrics). */
  get heldBytes(): number {
    return this.#entries?.calculatedSize ?? 0
  }
}
