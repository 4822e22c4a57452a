// Stamped copies of cached answers, reused: serving a 4 MB page again rewrites its 1001 timestamps in
// place instead of copying 4 MB into fresh memory. The cached proxy spent 42 % of its busy time in
// those copies and the GC they caused (profile of 2026-11-23, docs/BENCHMARKS.md).
import { LRUCache } from 'lru-cache'
import { stampAnswer, type AnswerTemplate } from './answer-template.ts'
import { utcNowFullText } from '../json/dotnet-time.ts'

export interface AnswerCopiesOptions {
  /** Bytes of idle copies kept for reuse at most, over every template. */
  readonly maxIdleBytes: number
  /** Idle copies of one template kept at most (about the concurrent hits of one page). */
  readonly maxIdlePerTemplate: number
}

/**
 * `render` hands out a copy of a template with fresh timestamps; `give` takes it back once its bytes
 * were written to the client, and the template's next hit reuses it. A copy never given back (a
 * client that went away, an answer kept for a comparison) is left to the garbage collector. Idle
 * copies go, least recently used template first, beyond maxIdleBytes; an evicted template's
 * copies with it (they hold a strong reference to it only while idle).
 */
export class AnswerCopies {
  readonly #idle: LRUCache<AnswerTemplate, Buffer[]>
  // Only a copy this instance handed out may come back, once, to the template it was made from.
  readonly #out = new WeakMap<ArrayBuffer, AnswerTemplate>()
  readonly #maxIdlePerTemplate: number

  constructor(options: AnswerCopiesOptions) {
    this.#maxIdlePerTemplate = options.maxIdlePerTemplate
    this.#idle = new LRUCache<AnswerTemplate, Buffer[]>({
      maxSize: options.maxIdleBytes,
      sizeCalculation: (copies, template) => Math.max(1, copies.length * template.bytes.length),
    })
  }

  /** The answer with fresh timestamps, in reused memory when an idle copy of this template exists. */
  render(template: AnswerTemplate): Buffer {
    const idle = this.#idle.get(template)
    let copy: Buffer | undefined
    if (idle !== undefined) {
      copy = idle[idle.length - 1]
      // A new array: lru-cache recounts an entry's size only when its value changes identity.
      if (idle.length === 1) this.#idle.delete(template)
      else this.#idle.set(template, idle.slice(0, -1))
    }
    if (copy === undefined) {
      // Its own ArrayBuffer, exactly the answer's size: the whole memory is the answer, and comes back whole.
      copy = Buffer.allocUnsafeSlow(template.bytes.length)
      template.bytes.copy(copy)
    }
    const itemStamp = utcNowFullText()
    stampAnswer(copy, template, itemStamp, utcNowFullText())
    this.#out.set(copy.buffer as ArrayBuffer, template)
    return copy
  }

  /** `answer` (from render) is no longer used by anyone: the next hit of its template may reuse it. */
  give(answer: Buffer): void {
    const memory = answer.buffer as ArrayBuffer
    const template = this.#out.get(memory)
    if (template === undefined || answer.length !== template.bytes.length) return
    this.#out.delete(memory)
    const idle = this.#idle.get(template) ?? []
    if (idle.length >= this.#maxIdlePerTemplate) return
    this.#idle.set(template, [...idle, answer])
  }

  /** Bytes held in idle copies (tests, metrics). */
  get idleBytes(): number {
    return this.#idle.calculatedSize
  }

  clear(): void {
    this.#idle.clear()
  }
}
