// GET /v2/performance/metrics and GET /v2/health/performance on the client listener, for the ArzSw
// users named in config `adminUsers` only. Their Basic credentials are verified the way the fast path
// verifies them (ArzSw + BCrypt, cached); every other caller is passed to the legacy, so the legacy's
// own answer (404 today) stays exactly what it was.
import type { IncomingHttpHeaders } from 'node:http'
import { parseBasicCredentials } from '../auth/basic-credentials.ts'
import type { FastAnswer } from '../routes/contract.ts'
import type { BasicCredentials } from '../auth/basic-credentials.ts'
import type { VerifyOutcome } from '../auth/credential-verifier.ts'
import { performanceHealth, performanceMetrics, type PerformanceSources } from './performance-report.ts'

export type PerformanceEndpoint = 'metrics' | 'health'

const JSON_TYPE = 'application/json; charset=utf-8'

/** The legacy's routing rules (docs/legacy-contract.md §3): case-insensitive, `v2` or `v2.0`, one trailing slash ignored. */
const BY_PATH: ReadonlyMap<string, PerformanceEndpoint> = new Map([
  ['/v2/performance/metrics', 'metrics'],
  ['/v2.0/performance/metrics', 'metrics'],
  ['/v2/health/performance', 'health'],
  ['/v2.0/health/performance', 'health'],
])

/** The endpoint a request names, or null. Cheap: called for every request no fast route took. */
export function performanceEndpointOf(method: string | undefined, rawUrl: string | undefined): PerformanceEndpoint | null {
  if (method !== 'GET' || rawUrl === undefined || rawUrl.length < 20) return null
  const q = rawUrl.indexOf('?')
  let path = q < 0 ? rawUrl : rawUrl.slice(0, q)
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1)
  return BY_PATH.get(path.toLowerCase()) ?? null
}

export interface PerformanceEndpointsOptions extends PerformanceSources {
  readonly adminUsers: () => readonly string[]
  /** The fast path's credential check; absent (no ArzSw configured) means nobody is admitted. */
  readonly verify?: (credentials: BasicCredentials) => Promise<VerifyOutcome>
}

export class PerformanceEndpoints {
  readonly #options: PerformanceEndpointsOptions

  constructor(options: PerformanceEndpointsOptions) {
    this.#options = options
  }

  claims(method: string | undefined, rawUrl: string | undefined): boolean {
    return performanceEndpointOf(method, rawUrl) !== null
  }

  /** The answer for an admin user; null for anyone else (the caller passes the request to the legacy). */
  async answer(method: string | undefined, rawUrl: string | undefined, headers: IncomingHttpHeaders): Promise<FastAnswer | null> {
    const endpoint = performanceEndpointOf(method, rawUrl)
    if (endpoint === null || !(await this.#isAdmin(headers))) return null
    // Any header the legacy reacts to (X-Tenant-Id → 500) is irrelevant here: these routes are the proxy's.
    const body = endpoint === 'metrics' ? performanceMetrics(this.#options) : await performanceHealth(this.#options)
    return { kind: 'answer', status: 200, contentType: JSON_TYPE, body: Buffer.from(JSON.stringify(body)), servedBy: 'fast' }
  }

  async #isAdmin(headers: IncomingHttpHeaders): Promise<boolean> {
    const credentials = parseBasicCredentials(headers.authorization)
    // A name not on the list never costs an ArzSw query or a BCrypt run.
    if (credentials === null || this.#options.verify === undefined || !this.#options.adminUsers().includes(credentials.user)) return false
    const outcome = await this.#options.verify(credentials)
    return outcome.kind === 'verified'
  }
}
