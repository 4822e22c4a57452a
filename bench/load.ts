// The load generator: N connections (one socket each, so N really is the number of sockets),
// closed loop (next request when the answer is read) or paced (each connection starts a request every
// intervalMs, as a polling client does), bounded by a time and a request count, whichever comes first.
// Why our own loop and not autocannon: the scenarios need what autocannon's fixed request list does not
// give: weighted mixes with a user per request, per-connection pacing for the crowd, and the same loop
// driving the raw SQL floor (no HTTP). Requests go through lean-http.ts, which allocates nothing per chunk.
import { LeanHttpConnection } from './lean-http.ts'

export interface TurnResult {
  readonly requests: number
  readonly errors: number
  readonly seconds: number
  /** Latencies in ms, sorted ascending. */
  readonly latenciesMs: Float64Array
  readonly bytes: number
  readonly errorSamples: readonly string[]
  /** Per request label (when the turn labels requests): latencies sorted ascending and errors. */
  readonly byLabel: ReadonlyMap<string, { latenciesMs: Float64Array; errors: number }>
  /** With steadyAfterMs: latencies (sorted) of the requests due from then on; else empty. */
  readonly steadyLatenciesMs: Float64Array
  /**
   * With userOf: how many users the turn's requests named, how many had an answer (not an error), and
   * when the last of them had its first one (ms after the turn began; NaN while one had none).
   */
  readonly firstAnswers: { readonly users: number; readonly answered: number; readonly allAnsweredMs: number } | undefined
}

/** One request of a connection; resolves to the body size, throws (or returns an Error) on failure. */
export type Send = (connection: number, n: number) => Promise<number | Error>

export interface TurnOptions {
  readonly connections: number
  readonly intervalMs: number | undefined
  readonly seconds: number
  readonly maxRequests: number
  readonly send: Send
  /** Longest a single request may take before it counts as an error. */
  readonly requestTimeoutMs: number
  /** What kind of request the n-th is, to report a mix per kind. */
  readonly labelOf?: (n: number) => string
  /** Requests due this long after the turn began or later count as the steady state too (steadyLatenciesMs). */
  readonly steadyAfterMs?: number
  /** Who the n-th request is sent as, to time every user's first answer (firstAnswers). */
  readonly userOf?: (n: number) => string
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export async function runTurn(options: TurnOptions): Promise<TurnResult> {
  const latencies: number[] = []
  const errorSamples: string[] = []
  let started = 0
  let errors = 0
  let bytes = 0
  const t0 = performance.now()
  const deadline = t0 + options.seconds * 1000
  const labelled = new Map<string, { latencies: number[]; errors: number }>()
  const steady: number[] = []
  // Per user: when its first answer came (ms after t0), or undefined while none has.
  const firstAnswer = new Map<string, number | undefined>()
  const fail = (message: string, label: string | undefined) => {
    if (label !== undefined) labelled.get(label)!.errors++
    errors++
    if (errorSamples.length < 5) errorSamples.push(message)
  }
  async function connection(index: number): Promise<void> {
    // Paced connections start spread over one interval, as independent pollers would.
    let next = options.intervalMs === undefined ? t0 : t0 + (options.intervalMs * index) / options.connections
    while (true) {
      // Paced: latency counts from when the request was due, so a server that falls behind is not
      // flattered by requests that simply started late (coordinated omission).
      const due = next
      if (options.intervalMs !== undefined) {
        const wait = next - performance.now()
        if (next >= deadline) return
        if (wait > 0) await sleep(wait)
        next += options.intervalMs
      }
      if (performance.now() >= deadline || started >= options.maxRequests) return
      const n = started++
      const label = options.labelOf?.(n)
      const user = options.userOf?.(n)
      if (user !== undefined && !firstAnswer.has(user)) firstAnswer.set(user, undefined)
      let failed = false
      if (label !== undefined && !labelled.has(label)) labelled.set(label, { latencies: [], errors: 0 })
      const begin = options.intervalMs === undefined ? performance.now() : Math.min(due, performance.now())
      let timer: NodeJS.Timeout | undefined
      try {
        const outcome = await Promise.race([
          options.send(index, n),
          new Promise<Error>((resolve) => { timer = setTimeout(() => resolve(new Error(`timeout after ${options.requestTimeoutMs} ms`)), options.requestTimeoutMs) }),
        ])
        if (outcome instanceof Error) {
          failed = true
          fail(outcome.message, label)
        } else bytes += outcome
      } catch (error) {
        failed = true
        fail((error as Error).message, label)
      } finally {
        clearTimeout(timer)
      }
      const end = performance.now()
      const latency = end - begin
      latencies.push(latency)
      if (options.steadyAfterMs !== undefined && begin - t0 >= options.steadyAfterMs) steady.push(latency)
      if (user !== undefined && !failed && firstAnswer.get(user) === undefined) firstAnswer.set(user, end - t0)
      if (label !== undefined) labelled.get(label)!.latencies.push(latency)
    }
  }
  await Promise.all(Array.from({ length: options.connections }, (_, i) => connection(i)))
  return {
    requests: started, errors, seconds: (performance.now() - t0) / 1000,
    latenciesMs: Float64Array.from(latencies).sort(), bytes, errorSamples,
    byLabel: new Map([...labelled].map(([label, l]) => [label, { latenciesMs: Float64Array.from(l.latencies).sort(), errors: l.errors }])),
    steadyLatenciesMs: Float64Array.from(steady).sort(),
    firstAnswers: options.userOf === undefined ? undefined : firstAnswersOf(firstAnswer),
  }
}

function firstAnswersOf(firstAnswer: ReadonlyMap<string, number | undefined>): NonNullable<TurnResult['firstAnswers']> {
  const times = [...firstAnswer.values()]
  const answered = times.filter((t): t is number => t !== undefined)
  return {
    users: times.length, answered: answered.length,
    allAnsweredMs: answered.length === times.length && times.length > 0 ? Math.max(...answered) : Number.NaN,
  }
}

export interface HttpRequest {
  readonly method: 'GET' | 'PATCH' | 'POST'
  readonly path: string
  readonly authorization: string
  readonly body: string | undefined
}

/** One keep-alive connection per index, kept across turns so sockets stay open as a poller's would. */
export class HttpConnections {
  readonly #connections: LeanHttpConnection[] = []
  readonly #origin: string
  constructor(origin: string) {
    this.#origin = origin
  }

  async send(index: number, request: HttpRequest): Promise<number | Error> {
    const connection = this.#connections[index] ??= new LeanHttpConnection(this.#origin)
    const headers: Record<string, string> = { authorization: request.authorization }
    if (request.body !== undefined) headers['content-type'] = 'application/json'
    const answer = await connection.request(request.method, request.path, headers, request.body)
    return answer.status === 200 ? answer.bytes : new Error(`HTTP ${answer.status} for ${request.method} ${request.path}`)
  }

  async close(): Promise<void> {
    for (const connection of this.#connections) connection.close()
    this.#connections.length = 0
  }
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}
