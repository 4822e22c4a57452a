// One compare run against a running proxy: each request through the legacy path (flags off), then the
// fast path with its cache voided before every round (cold) and kept (warm), flipping the flags with
// the admin API and putting them back after; every fast answer compared with the legacy's. Without an
// admin URL the flags are left alone and each answer is filed under the path its Server-Timing names.
// A route the proxy demoted during the run (its own sampled comparisons) is reported with the reason
// and left off: its fast answers stopped mid-run, and the report must say why.
import { AdminClient, type Flags, type ProxyMismatch } from './admin-client.ts'
import { answerDifferences, type AnswerDifference } from './answer-diff.ts'
import { replay, voidCache, type ReplayAnswer, type ServingPath } from './replay.ts'
import type { ReplayRequest } from './request-list.ts'

export interface CompareOptions {
  readonly proxyUrl: string
  readonly adminUrl?: string
  readonly adminToken?: string
  readonly requests: readonly ReplayRequest[]
  /** Times each request is sent per pass. */
  readonly rounds: number
  /** Run the cold pass (voids the users' cached answers with a no-op status write before each round). */
  readonly cold: boolean
  /**
   * How long after the last request the flags are watched for a demotion (default 2000 ms): a sampled
   * comparison is a legacy read and a re-check, and may still be under way when the last pass ends.
   */
  readonly settleMs?: number
  readonly log?: (line: string) => void
}

export type PassName = 'legacy' | 'cold' | 'warm' | 'observed'

export interface Sample {
  readonly request: number
  readonly pass: PassName
  readonly path: ServingPath | 'unknown'
  readonly status: number
  readonly ms: number
}

export interface Mismatch {
  readonly label: string
  readonly route: string
  readonly pass: PassName
  readonly path: ServingPath | 'unknown'
  readonly differences: readonly AnswerDifference[]
}

/** A route the proxy switched off by itself while the run went on. */
export interface Demotion {
  readonly route: string
  readonly at: string
  readonly reason: string
  /** The classes of the proxy's mismatch records for the route since the run began (`escaping` ×3). */
  readonly classes: Readonly<Record<string, number>>
  /** The JSON member of the first such record's first difference, when it names one. */
  readonly member: string | null
}

export interface CompareResult {
  readonly proxyUrl: string
  readonly startedAt: string
  readonly durationMs: number
  readonly mode: 'flags' | 'observed'
  readonly rounds: number
  readonly requests: readonly ReplayRequest[]
  readonly samples: readonly Sample[]
  /** Fast or cache answers compared with the legacy's answer to the same request. */
  readonly compared: number
  readonly mismatches: readonly Mismatch[]
  /** Fast or cache answers with no legacy answer to compare with (observed mode only). */
  readonly uncompared: number
  /** Routes demoted during the run; undefined without an admin URL (it cannot be read). */
  readonly demotions: readonly Demotion[] | undefined
}

/** Keeps one mismatch record per request and pass: the counts say how often. */
const MAX_RECORDS_PER_REQUEST = 1

export async function runCompare(options: CompareOptions): Promise<CompareResult> {
  const started = performance.now()
  const startedAt = new Date().toISOString()
  const log = options.log ?? (() => {})
  const samples: Sample[] = []
  const mismatches: Mismatch[] = []
  const recorded = new Map<string, number>()
  const references = new Map<number, ReplayAnswer>()
  let compared = 0
  let uncompared = 0
  let demotions: Demotion[] | undefined

  const send = async (index: number, pass: PassName): Promise<void> => {
    const req = options.requests[index]!
    const answer = await replay(options.proxyUrl, req)
    samples.push({ request: index, pass, path: answer.path, status: answer.status, ms: answer.ms })
    if (answer.path === 'legacy' || answer.path === 'unknown') {
      if (!references.has(index)) references.set(index, answer)
      return
    }
    const reference = references.get(index)
    if (reference === undefined) {
      uncompared++
      return
    }
    compared++
    const found = answerDifferences(reference, answer)
    if (found.length === 0) return
    const key = `${index}/${pass}`
    const count = (recorded.get(key) ?? 0) + 1
    recorded.set(key, count)
    // Every mismatch counts; identical records for the same request are not repeated.
    mismatches.push({ label: req.label, route: req.route, pass, path: answer.path, differences: count <= MAX_RECORDS_PER_REQUEST ? found : [] })
  }
  const pass = async (name: PassName, beforeRound?: () => Promise<void>): Promise<void> => {
    log(`${name}: ${options.rounds} × ${options.requests.length} requests`)
    for (let round = 0; round < options.rounds; round++) {
      await beforeRound?.()
      for (let i = 0; i < options.requests.length; i++) await send(i, name)
    }
  }

  if (options.adminUrl === undefined) {
    await pass('observed')
  } else {
    const admin = new AdminClient(options.adminUrl, options.adminToken)
    const original = await admin.flags()
    const routeIds = [...new Set(options.requests.map((r) => r.route))].filter((route) => route in original)
    const users = [...new Set(options.requests.map((r) => r.user))]
    try {
      await admin.setAll(routeIds, 'off')
      await pass('legacy')
      await admin.setAll(routeIds, 'on')
      if (options.cold) await pass('cold', async () => { for (const user of users) await voidCache(options.proxyUrl, user) })
      await pass('warm')
      const settleUntil = performance.now() + (options.settleMs ?? 2000)
      demotions = await demotedDuring(admin, routeIds, startedAt)
      while (demotions.length === 0 && performance.now() < settleUntil) {
        await new Promise((resolve) => setTimeout(resolve, 200))
        demotions = await demotedDuring(admin, routeIds, startedAt)
      }
      for (const d of demotions) log(`${d.route} was demoted by the proxy during the run (${d.at}): ${d.reason}`)
    } finally {
      // A route demoted during the run stays off: the proxy found it wrong, and turning it back on is
      // an operator's decision after reading the records.
      const demoted = new Set(demotions?.map((d) => d.route))
      await restore(admin, original, routeIds.filter((route) => !demoted.has(route)))
    }
  }
  return {
    proxyUrl: options.proxyUrl,
    startedAt,
    durationMs: performance.now() - started,
    mode: options.adminUrl === undefined ? 'observed' : 'flags',
    rounds: options.rounds,
    requests: options.requests,
    samples,
    compared,
    mismatches,
    uncompared,
    demotions,
  }
}

/** Routes whose flag now carries a demotion made after `since`, with what the proxy's records say. */
async function demotedDuring(admin: AdminClient, routeIds: readonly string[], since: string): Promise<Demotion[]> {
  const demotions: Demotion[] = []
  let records: ProxyMismatch[] | undefined
  for (const route of routeIds) {
    const state = await admin.flag(route)
    if (state.demotion === undefined || state.demotion.at < since) continue
    records ??= await admin.mismatches().catch(() => [])
    const mine = records.filter((r) => r.routeId === route && r.at >= since && r.outcome === 'mismatch')
    const classes: Record<string, number> = {}
    for (const r of mine) {
      const name = r.firstDifference?.class ?? 'unknown'
      classes[name] = (classes[name] ?? 0) + 1
    }
    demotions.push({ route, at: state.demotion.at, reason: state.demotion.reason, classes, member: mine.at(-1)?.firstDifference?.member ?? null })
  }
  return demotions
}

async function restore(admin: AdminClient, original: Flags, routeIds: readonly string[]): Promise<void> {
  for (const routeId of routeIds) await admin.setFlag(routeId, original[routeId]!)
}
