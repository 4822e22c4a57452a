// Attribute objects made once per distinct combination of label values and reused, so recording an
// event allocates no attribute object; beyond a bound, new combinations share one "other" set.
import type { Attributes } from '@opentelemetry/api'

export const OVERFLOW_VALUE = 'other'

export class LabelSets {
  readonly #keys: readonly string[]
  readonly #limit: number
  // Up to three levels, one per label; a missing label is keyed by ''.
  readonly #root = new Map<string, Map<string, Map<string, Attributes>>>()
  #count = 0
  #overflow: Attributes | undefined

  /** `keys`: one to three label names; `limit`: distinct combinations kept before overflowing. */
  constructor(keys: readonly string[], limit = 1000) {
    if (keys.length < 1 || keys.length > 3) throw new Error(`LabelSets takes one to three label names, not ${keys.length}`)
    this.#keys = keys
    this.#limit = limit
  }

  get size(): number {
    return this.#count
  }

  get(a: string, b = '', c = ''): Attributes {
    let second = this.#root.get(a)
    if (second === undefined) {
      if (this.#count >= this.#limit) return this.#overflowSet()
      second = new Map()
      this.#root.set(a, second)
    }
    let third = second.get(b)
    if (third === undefined) {
      if (this.#count >= this.#limit) return this.#overflowSet()
      third = new Map()
      second.set(b, third)
    }
    const known = third.get(c)
    if (known !== undefined) return known
    if (this.#count >= this.#limit) return this.#overflowSet()
    const made = this.#make([a, b, c])
    third.set(c, made)
    this.#count++
    return made
  }

  #make(values: readonly string[]): Attributes {
    const attributes: Record<string, string> = {}
    for (let i = 0; i < this.#keys.length; i++) attributes[this.#keys[i]!] = values[i]!
    return Object.freeze(attributes)
  }

  #overflowSet(): Attributes {
    return (this.#overflow ??= this.#make(this.#keys.map(() => OVERFLOW_VALUE)))
  }
}

const STATUS_CLASSES = ['other', '1xx', '2xx', '3xx', '4xx', '5xx']

/** 2xx..5xx by the hundreds; 499 (the client went away before the answer) on its own; anything else "other". */
export function statusClass(status: number): string {
  if (status === 499) return '499'
  return STATUS_CLASSES[(status / 100) | 0] ?? 'other'
}
