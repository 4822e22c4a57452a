// One compare run against a running proxy: each request through the legacy path (flags off), then the
// fast path with its cache voided before every round (cold) and kept (warm), flipping the flags with
// the admin API and putting them back after; every fast answer compared with the legacy's. Without an
// admin URL the flags are left alone and each answer is filed under the path its Server-Timing names.
import { AdminClient, type Flags } from './admin-client.ts'
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
  /** Run the cold pass (voids the users' cached answers with an empty status write before each round). */
  readonly cold: boolean
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
    } finally {
      await restore(admin, original, routeIds)
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
  }
}

async function restore(admin: AdminClient, original: Flags, routeIds: readonly string[]): Promise<void> {
  for (const routeId of routeIds) await admin.setFlag(routeId, original[routeId]!)
}
