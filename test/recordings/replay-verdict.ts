// Judges one replayed answer against the real legacy's recorded one: equal, different only in string
// escaping, or different (with the first differing bytes); v1 `GET new` by items and PostgreSQL's order.
import {
  blankVolatile, canonicalJson, firstDifference, isDeveloperExceptionPage, splitArray, userOf,
  type RecordedExchange, type ReplayedAnswer,
} from './recorded-exchanges.ts'
import type { V1Key } from './v1-legacy-order.ts'

export type Verdict =
  | { readonly kind: 'equal' }
  | { readonly kind: 'escaping'; readonly detail: string }
  | { readonly kind: 'different'; readonly detail: string }

const EQUAL: Verdict = Object.freeze({ kind: 'equal' })

const V1_NEW = /^\/api(\/v1(\.0)?)?\/prescriptions\/new\/?(\?|$)/i

export function isV1New(recorded: RecordedExchange): boolean {
  return recorded.method === 'GET' && V1_NEW.test(recorded.path)
}

/** Body texts compared after blanking; an escaping-only difference is told apart from any other. */
function compareTexts(expected: string, actual: string, what: string): Verdict {
  const difference = firstDifference(expected, actual)
  if (difference === null) return EQUAL
  const canonical = canonicalJson(expected)
  if (canonical !== null && canonical === canonicalJson(actual)) return { kind: 'escaping', detail: `${what}: ${difference}` }
  return { kind: 'different', detail: `${what}: ${difference}` }
}

/** Items in any order: equal bytes, or (for the count) equal after re-escaping each item. */
function compareMultisets(want: readonly string[], got: readonly string[]): Verdict {
  const difference = firstDifference([...want].sort().join('\n'), [...got].sort().join('\n'))
  if (difference === null) return EQUAL
  const canonical = (items: readonly string[]) => items.map((i) => canonicalJson(i) ?? i).sort().join('\n')
  return { kind: canonical(want) === canonical(got) ? 'escaping' : 'different', detail: `items as a multiset: ${difference}` }
}

function worst(verdicts: readonly Verdict[]): Verdict {
  return verdicts.find((v) => v.kind === 'different') ?? verdicts.find((v) => v.kind === 'escaping') ?? EQUAL
}

/**
 * Recorded v1 `GET new` items of each user, by `type:id`: the pages the legacy answered overlap, so
 * together they hold every item an answer may show, whatever order PostgreSQL picks this time.
 */
export class RecordedV1Items {
  readonly #items = new Map<string, Map<string, Set<string>>>()

  constructor(recordings: readonly RecordedExchange[]) {
    for (const r of recordings) {
      if (!isV1New(r) || r.status !== 200) continue
      const user = userOf(r.headers.Authorization) ?? ''
      let byKey = this.#items.get(user)
      if (byKey === undefined) this.#items.set(user, byKey = new Map())
      for (const item of splitArray(r.body, 'prescriptions')?.items ?? []) {
        const key = itemKey(item)
        let texts = byKey.get(key)
        if (texts === undefined) byKey.set(key, texts = new Set())
        texts.add(item)
      }
    }
  }

  /** The recorded texts of one item; empty when no recording shows it. */
  texts(user: string, key: string): ReadonlySet<string> {
    return this.#items.get(user)?.get(key) ?? new Set()
  }
}

function itemKey(item: string): string {
  const parsed = JSON.parse(item) as { type: string; id: number }
  return `${parsed.type}:${parsed.id}`
}

/**
 * v1 `GET new` has no ORDER BY (observed-sql.md): the items must be the recorded ones byte for byte
 * (as a multiset when the recording holds the whole selection, else each by its prescription), and
 * in the order PostgreSQL returns the legacy's statement in now (`legacyOrder`).
 */
function compareV1(recorded: RecordedExchange, actual: string, legacyOrder: readonly V1Key[] | 'unknown', recordedItems: RecordedV1Items): Verdict {
  const want = splitArray(recorded.body, 'prescriptions')
  const got = splitArray(actual, 'prescriptions')
  if (want === null || got === null) return compareTexts(recorded.body, actual, 'body')
  const verdicts: Verdict[] = [compareTexts(want.head + want.tail, got.head + got.tail, 'envelope')]
  const gotKeys = got.items.map((item) => {
    const p = JSON.parse(item) as { type: string; id: number; datenId: number }
    return `${p.type}:${p.id}:${p.datenId}`
  })
  const orderDifference = legacyOrder === 'unknown' ? null : firstDifference(legacyOrder.map((k) => `${k.type}:${k.id}:${k.datenId}`).join(' '), gotKeys.join(' '), 40)
  if (orderDifference !== null) verdicts.push({ kind: 'different', detail: `item order is not PostgreSQL's for the legacy's statement: ${orderDifference}` })
  if (want.items.length !== got.items.length) {
    verdicts.push({ kind: 'different', detail: `${got.items.length} items, the recording has ${want.items.length}` })
  }
  const totalCount = Number(/"totalCount":(-?\d+)/.exec(want.tail)?.[1] ?? -1)
  if (want.items.length === totalCount) {
    // The recording shows the whole selection: the same items, in any order.
    verdicts.push(compareMultisets(want.items, got.items))
  }
  const user = userOf(recorded.headers.Authorization) ?? ''
  for (const item of got.items) {
    const key = itemKey(item)
    const texts = recordedItems.texts(user, key)
    if (texts.has(item)) continue
    if (texts.size === 0) {
      verdicts.push({ kind: 'different', detail: `item ${key} is in no recorded answer` })
      continue
    }
    verdicts.push(compareTexts([...texts][0]!, item, `item ${key}`))
  }
  return worst(verdicts)
}

export function judge(recorded: RecordedExchange, answer: ReplayedAnswer, legacyOrder: readonly V1Key[] | 'unknown' | null, recordedItems: RecordedV1Items): Verdict {
  if (answer.status !== recorded.status) {
    return { kind: 'different', detail: `status ${answer.status}, recorded ${recorded.status}; body ${JSON.stringify(answer.body.toString('utf8').slice(0, 160))}` }
  }
  if (isDeveloperExceptionPage(recorded)) return EQUAL
  if (answer.contentType !== recorded.contentType) {
    return { kind: 'different', detail: `content type ${JSON.stringify(answer.contentType)}, recorded ${JSON.stringify(recorded.contentType)}` }
  }
  const actual = blankVolatile(answer.body.toString('utf8'))
  if (legacyOrder !== null) return compareV1(recorded, actual, legacyOrder, recordedItems)
  return compareTexts(blankVolatile(recorded.body), actual, 'body')
}
