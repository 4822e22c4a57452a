// The statements of v1 GET new on a tenant's database: the legacy's own statement per type, read in
// the plan's order through a limited portal on a connection with the server's planner defaults, after
// a check that the plan's order is reproducible (no Gather); the counts are the v2 list's (same NEW filter).
import type pg from 'pg'
import type { EventBus } from '../../core/events.ts'
import { PRESCRIPTION_TYPES, type PrescriptionType } from '../../sql/queries/prescription-types.ts'
import { v1NewStatements, type V1NewStatements } from '../../sql/queries/v1-new-prescriptions.ts'
import type { TenantDatabase } from '../../tenants/npgsql-connection-string.ts'
import { readPortalRows } from '../../tenants/portal-rows.ts'
import type { V1TypeRows } from './answer.ts'
import type { V1NewRequest } from './request.ts'

const STATEMENTS: ReadonlyMap<PrescriptionType, V1NewStatements> = new Map(PRESCRIPTION_TYPES.map((t) => [t, v1NewStatements(t)]))

/** The plan of a type's statement has a node whose row order is not the plan's alone (parallel workers). */
export class OrderUnproven extends Error {
  constructor(type: PrescriptionType, node: string) {
    super(`the plan of the v1 ${type.name} statement has a ${node}: its order is the workers' race`)
  }
}

/** The caller withdrew before a statement was sent. */
export class V1RequestAborted extends Error {}

// Plan nodes after which the rows' order depends on timing: Gather merges the workers' rows as they
// come; Gather Merge keeps a sort order, but the statement has none to keep.
const UNORDERED_NODES = new Set(['Gather', 'Gather Merge'])

function unorderedNode(plan: unknown): string | undefined {
  const node = plan as { 'Node Type'?: string; Plans?: unknown[] }
  if (node['Node Type'] !== undefined && UNORDERED_NODES.has(node['Node Type'])) return node['Node Type']
  for (const child of node.Plans ?? []) {
    const found = unorderedNode(child)
    if (found !== undefined) return found
  }
  return undefined
}

export interface V1QueriesOptions {
  readonly events: EventBus
  /** How long a (tenant, type)'s plan check is trusted before EXPLAIN runs again. */
  readonly planCheckMs: number
  /** The v2 list's counts of new rows per type (routes/v2-rezept-list/queries.ts, its count cache included). */
  readonly counts: (pool: pg.Pool, database: TenantDatabase, types: readonly PrescriptionType[], signal: AbortSignal | undefined) => Promise<number>
}

const MAX_PLAN_CHECKS = 3000

export class V1Queries {
  readonly #options: V1QueriesOptions
  /** `${identity}\n${type key}` → when the check was made and what it found (undefined: order reproducible). */
  readonly #plans = new Map<string, { at: number; node: string | undefined }>()

  constructor(options: V1QueriesOptions) {
    this.#options = options
  }

  /**
   * The page's rows per type, in the legacy's order: the types one after another on one connection
   * (as the legacy loads them), each read only as far as the page reaches; types after the page are
   * not read at all. Throws OrderUnproven, V1RequestAborted or the database's error.
   */
  async readPage(plainPool: pg.Pool, database: TenantDatabase, request: V1NewRequest, signal?: AbortSignal): Promise<V1TypeRows[]> {
    const end = request.skip + request.take
    const items: V1TypeRows[] = []
    if (request.take === 0) return items
    if (signal?.aborted) throw new V1RequestAborted()
    const client = await plainPool.connect()
    let broken: Error | undefined
    try {
      let before = 0
      for (const type of request.types) {
        if (before >= end) break
        if (signal?.aborted) throw new V1RequestAborted()
        await this.#checkPlan(client, database, type)
        if (signal?.aborted) throw new V1RequestAborted()
        const read = await this.#timed(`fastpath_v1_new_${type.key}`, () =>
          readPortalRows(client, STATEMENTS.get(type)!.rowsSql, Math.max(0, request.skip - before), end - before))
        items.push({ type, rows: read.rows })
        before += read.received
      }
    } catch (error) {
      if (!(error instanceof V1RequestAborted) && !(error instanceof OrderUnproven)) broken = error as Error
      throw error
    } finally {
      // A connection whose statement failed is not handed to the next request.
      client.release(broken)
    }
    return items
  }

  /** The selected types' counts of new rows, summed (after the rows, as the legacy counts after loading). */
  readTotal(pool: pg.Pool, database: TenantDatabase, types: readonly PrescriptionType[], signal?: AbortSignal): Promise<number> {
    return this.#options.counts(pool, database, types, signal)
  }

  async #checkPlan(client: pg.PoolClient, database: TenantDatabase, type: PrescriptionType): Promise<void> {
    const key = database.identity + '\n' + type.key
    const now = Date.now()
    let known = this.#plans.get(key)
    if (known === undefined || now - known.at > this.#options.planCheckMs) {
      const result = await this.#timed(`fastpath_v1_new_${type.key}_plan`, () => client.query<{ 'QUERY PLAN': unknown }>(STATEMENTS.get(type)!.explainSql))
      const plan = (result.rows[0]!['QUERY PLAN'] as Array<{ Plan: unknown }>)[0]!.Plan
      known = { at: now, node: unorderedNode(plan) }
      if (this.#plans.size >= MAX_PLAN_CHECKS) this.#plans.clear()
      this.#plans.set(key, known)
    }
    if (known.node !== undefined) throw new OrderUnproven(type, known.node)
  }

  async #timed<T>(name: string, run: () => Promise<T>): Promise<T> {
    const events = this.#options.events
    const started = events.listening ? performance.now() : 0
    let ok = false
    try {
      const result = await run()
      ok = true
      return result
    } finally {
      if (events.listening) events.emit({ type: 'db.query', name, durationMs: performance.now() - started, ok })
    }
  }
}
