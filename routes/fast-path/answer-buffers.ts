// Reusable memory for rendered cache hits: a fresh megabyte per hit costs more (page faults, GC) than
// copying the answer into it. The cached proxy spent 42 % of its busy time in those copies (profile of
// 2026-11-23, docs/BENCHMARKS.md); into warm, reused memory the same copy is a quarter of that.

/** Bytes a size class spans: an answer takes a buffer of the next multiple of this. */
const CLASS_BYTES = 64 * 1024

export interface AnswerBufferOptions {
  /** Free bytes kept for reuse at most, over every size class. */
  readonly maxPooledBytes: number
  /** Free buffers of one size class kept at most (about the concurrent hits of one page). */
  readonly maxPerClass: number
}

/**
 * A free list of buffers per size class. `take` hands out a view of a whole buffer; `give` takes it
 * back once its bytes were written to the client. A buffer that is never given back (a client that
 * went away, an answer someone else kept) is simply left to the garbage collector.
 */
export class AnswerBuffers {
  readonly #free = new Map<number, ArrayBuffer[]>()
  // Only memory this pool handed out may come back, and only once.
  readonly #out = new WeakSet<ArrayBuffer>()
  readonly #options: AnswerBufferOptions
  #pooledBytes = 0

  constructor(options: AnswerBufferOptions) {
    this.#options = options
  }

  /** A buffer of at least `bytes` bytes, reused when one of its class is free. */
  take(bytes: number): Buffer {
    const capacity = Math.ceil(bytes / CLASS_BYTES) * CLASS_BYTES
    const memory = this.#free.get(capacity)?.pop()
    let buffer: Buffer
    if (memory === undefined) buffer = Buffer.allocUnsafeSlow(capacity)
    else {
      this.#pooledBytes -= capacity
      buffer = Buffer.from(memory)
    }
    this.#out.add(buffer.buffer as ArrayBuffer)
    return buffer
  }

  /** `view` (any part of a buffer from `take`) is no longer used by anyone: its memory may be reused. */
  give(view: Buffer): void {
    const memory = view.buffer as ArrayBuffer
    if (!this.#out.delete(memory)) return
    const capacity = memory.byteLength
    if (this.#pooledBytes + capacity > this.#options.maxPooledBytes) return
    let free = this.#free.get(capacity)
    if (free === undefined) this.#free.set(capacity, (free = []))
    if (free.length >= this.#options.maxPerClass) return
    free.push(memory)
    this.#pooledBytes += capacity
  }

  /** Free bytes held for reuse (tests, metrics). */
  get pooledBytes(): number {
    return this.#pooledBytes
  }

  clear(): void {
    this.#free.clear()
    this.#pooledBytes = 0
  }
}
