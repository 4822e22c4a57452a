// A seeded installation with the legacy simulator and the fast paths side by side, and the means to send one request to each.
import { request } from 'node:http'
import { startLegacySim, type LegacySimHandle } from '../../../legacy-sim/server.ts'
import { urlForDatabase } from '../../../sql/seed/database-setup.ts'
import { seed, type SeedReport } from '../../../sql/seed/seed.ts'
import { EventBus, type ProxyEvent } from '../../../core/events.ts'
import type { FastPath, FastPathOutcome, RouteId } from '../../../routes/contract.ts'
import { createRezeptFastPaths, fastPathSettings, type FastPathSettingsInput, type RezeptFastPaths } from '../../../routes/v2-rezept-list/index.ts'
import { pgAdminUrl } from '../../../dev/services.ts'

export interface Exchange {
  readonly status: number
  readonly contentType: string | undefined
  readonly body: Buffer
}

export interface ComparisonFixture {
  readonly report: SeedReport
  readonly arzswUrl: string
  readonly sim: LegacySimHandle
  readonly fast: RezeptFastPaths
  readonly events: ProxyEvent[]
  path(routeId: RouteId): FastPath
  toSim(method: string, rawUrl: string, headers: Record<string, string>): Promise<Exchange>
  toFast(routeId: RouteId, method: string, rawUrl: string, headers: Record<string, string>): Promise<FastPathOutcome>
  close(): Promise<void>
}

export async function startComparison(options: {
  prefix: string
  rows?: number
  kleinRows?: number
  maxPageSize: number
  environment: string
  fastPath?: Partial<FastPathSettingsInput>
  /** A PostgreSQL server of the test's own (default: the suite's, PG_ADMIN_URL). */
  adminUrl?: string
}): Promise<ComparisonFixture> {
  const adminUrl = options.adminUrl ?? pgAdminUrl()
  const report = await seed({ adminUrl, prefix: options.prefix, rows: options.rows ?? 600, kleinRows: options.kleinRows ?? 400 })
  const arzswUrl = urlForDatabase(adminUrl, report.databases.arzsw)
  const sim = await startLegacySim({ arzswUrl, port: 0, maxPageSize: options.maxPageSize, environment: options.environment })
  const bus = new EventBus()
  const events: ProxyEvent[] = []
  bus.on((event) => events.push(event))
  // The uncached fast path unless a test asks for the cache: these tests change rows and read at once.
  const fastPath = { cache: { routes: { 'v2.rezept.list': 'off', 'v2.rezept.pharmacy': 'off' } }, ...options.fastPath } as const
  const fast = await createRezeptFastPaths(fastPathSettings({ arzswUrl, maxPageSize: options.maxPageSize, environment: options.environment, ...fastPath }), { events: bus })
  const never = new AbortController().signal
  return {
    report, arzswUrl, sim, fast, events,
    path: (routeId) => fast.paths.find((p) => p.routeId === routeId)!,
    toSim: (method, rawUrl, headers) => send(sim.port, method, rawUrl, headers),
    toFast: (routeId, method, rawUrl, headers) =>
      fast.paths.find((p) => p.routeId === routeId)!.handle({ routeId, method, rawUrl, headers }, never),
    async close() {
      await fast.close()
      await sim.close()
    },
  }
}

/** One request with the target sent exactly as given. */
export function send(port: number, method: string, rawUrl: string, headers: Record<string, string>): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path: rawUrl, headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body: Buffer.concat(chunks) }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

const VOLATILE = /"(responseTimestamp|deliveryTimestamp)":"([^"]*)"/g
const UTC_NOW = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{0,6}[1-9])?Z$/

/**
 * The body with the volatile timestamps blanked. Safe by construction: the encoder writes every `"`
 * inside a string as \", so inside a string `deliveryTimestamp` is followed by a backslash, never by
 * the quote the pattern needs: `"deliveryTimestamp":"` can only be a key. Also returns the values
 * that were not in DateTime.UtcNow's form.
 */
export function blankVolatile(body: Buffer): { text: string; malformed: string[] } {
  const malformed: string[] = []
  const text = body.toString('utf8').replace(VOLATILE, (_all, key: string, value: string) => {
    if (!UTC_NOW.test(value)) malformed.push(`${key}=${value}`)
    return `"${key}":"~"`
  })
  return { text, malformed }
}
