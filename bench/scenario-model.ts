// The shape of bench/scenarios.json and what both readers of it need: the bodies of the write requests and
// the user of a request. No Node import here: the k6 scripts (k6/) import this module too, so the harness
// and the load scripts build the same requests from the same file.

export type ContenderId = 'simulator' | 'proxy-off' | 'proxy-on' | 'proxy-cached' | 'nginx' | 'sql-floor' | 'http-floor'
export type MetricId = 'rps' | 'p50' | 'p95' | 'p99' | 'errors' | 'rssPeakMb' | 'steadyP95' | 'allUsersAnsweredMs'

export interface Credentials {
  readonly login: string
  readonly password: string
}

/** `gross`, `klein`, `leer` (the seeded users) or `bench-users` (a different BCrypt user per request). */
export type UserRef = 'gross' | 'klein' | 'leer' | 'bench-users'
export type BodyKind = 'status-update' | 'mark-as-read' | 'status-uuids-100' | 'status-uuids-1000'

export interface RequestSpec {
  readonly weight: number
  readonly method: 'GET' | 'PATCH' | 'POST'
  readonly path: string
  readonly user: UserRef
  readonly body?: BodyKind
}

export interface Operand {
  readonly c: ContenderId
  readonly m: MetricId
  readonly times?: number
  readonly plus?: number
}

export interface TargetSpec {
  readonly text: string
  readonly a: Operand
  readonly op: '<' | '<=' | '>=' | '>' | '=='
  readonly b: Operand | number
}

export interface ScenarioSpec {
  readonly id: string
  readonly title: string
  readonly issue: number
  readonly contenders: readonly ContenderId[]
  readonly connections: number
  /** Paced clients: each connection starts a request every intervalMs (closed loop without it). */
  readonly intervalMs?: number
  readonly rounds: number
  readonly turn: { readonly seconds: number; readonly maxRequests: number }
  readonly requests: readonly RequestSpec[]
  /**
   * No warm-up turn: the turn meets the proxy as it starts (run the scenario alone, `npm run bench --
   * crowd`, and no other scenario has verified its users): BCrypt, pools and caches all cold.
   */
  readonly cold?: boolean
  /** Also report p95/p99 of the requests due this long after the turn began, and every user's first answer. */
  readonly steadyAfterSeconds?: number
  readonly targets: readonly TargetSpec[]
  readonly k6: { readonly vus: number; readonly duration: string; readonly thresholds: Readonly<Record<string, readonly string[]>> }
}

export interface ScenarioFile {
  readonly users: Readonly<Record<'gross' | 'klein' | 'leer', Credentials>>
  readonly benchUsers: { readonly count: number; readonly loginPrefix: string; readonly password: string; readonly tenant: string; readonly bcryptCost: number }
  readonly maxPageSize: number
  readonly scenarios: readonly ScenarioSpec[]
  readonly memory: { readonly requests: readonly string[]; readonly targetHeapGrowthMb: number; readonly seedBoundMb: number }
  readonly aliases: Readonly<Record<string, readonly string[]>>
  readonly quick: {
    readonly rows: number; readonly kleinRows: number; readonly benchUsers: number; readonly maxConnections: number
    readonly crowdConnections: number; readonly intervalMs: number; readonly rounds: number
    readonly turn: { readonly seconds: number; readonly maxRequests: number }
  }
}

/** A prescription the write requests touch: chosen among ones already collected, so a write never changes the list. */
export interface WriteTarget {
  readonly type: 'eMuster16' | 'P-Rezept' | 'E-Rezept'
  readonly rezeptUuid: string
}

const statusUuidBodies = new Map<number, string>()

/**
 * The JSON body of a write request (docs/legacy-contract.md §7 and §8), of a bulk status read (§6:
 * N uuids, none in the window, so every one costs a "not found"; the window is read all the same),
 * or undefined for a GET.
 */
export function bodyFor(kind: BodyKind | undefined, target: WriteTarget | undefined): string | undefined {
  if (kind === undefined) return undefined
  if (kind === 'status-uuids-100' || kind === 'status-uuids-1000') {
    const count = kind === 'status-uuids-100' ? 100 : 1000
    let body = statusUuidBodies.get(count)
    if (body === undefined) {
      const uuids = Array.from({ length: count }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`)
      statusUuidBodies.set(count, body = JSON.stringify({ rezeptUuids: uuids }))
    }
    return body
  }
  if (target === undefined) throw new Error(`a ${kind} request needs a prescription to write to`)
  if (kind === 'status-update') {
    return JSON.stringify({ updates: [{ rezeptUuid: target.rezeptUuid, type: target.type, transferArz: null, status: 'IN_BEARBEITUNG' }] })
  }
  return JSON.stringify({ prescriptions: [{ type: target.type, rezeptUuid: target.rezeptUuid }] })
}

export function benchUserLogin(file: ScenarioFile, index: number): string {
  return `${file.benchUsers.loginPrefix}${String(index + 1).padStart(4, '0')}`
}

/** Who sends the n-th request of a connection: a seeded user, or the next of the bench users. */
export function credentialsFor(file: ScenarioFile, user: UserRef, n: number, benchUserCount: number): Credentials {
  if (user === 'bench-users') return { login: benchUserLogin(file, n % benchUserCount), password: file.benchUsers.password }
  return file.users[user]
}

/** Picks a request by weight from a number in [0, 1). */
export function pickRequest(requests: readonly RequestSpec[], unit: number): RequestSpec {
  let total = 0
  for (const r of requests) total += r.weight
  let point = unit * total
  for (const r of requests) {
    point -= r.weight
    if (point < 0) return r
  }
  return requests[requests.length - 1]!
}
