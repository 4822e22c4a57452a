// Plans one tenant database's seeding as weighted tasks: chains of loading statements (each chain
// runs in order on one connection, chains run side by side), then index builds, then bookkeeping.
import { DELIVERY_STATEMENTS } from './delivery-rows-sql.ts'
import { edgeStatements } from './edge-rows.ts'
import type { LegacySchema } from './legacy-schema.ts'
import { indexTable } from './legacy-schema.ts'
import { MAIN_STATEMENTS } from './main-rows-sql.ts'
import { bind, type BoundStatement, type NamedStatement, type ParameterValues } from './named-parameters.ts'
import { SATELLITE_STATEMENTS } from './prescription-rows-sql.ts'
import { deliveryCount, pharmacyCount, PRESCRIPTION_TYPES, type PrescriptionType, typeCounts, type TypeCounts } from './prescription-types.ts'
import type { TenantKey } from './tenants.ts'

export interface LoadTask {
  readonly label: string
  /** Expected cost in arbitrary units (about one per plain row); drives the progress bar. */
  readonly weight: number
  readonly statements: readonly BoundStatement[]
}

export interface TenantPlan {
  readonly tenant: TenantKey
  readonly database: string
  readonly rows: number
  readonly counts: TypeCounts
  readonly deliveries: number
  readonly pharmacies: number
  readonly createTables: LoadTask
  /** Independent chains; the tasks of one chain run in order on one connection. */
  readonly loadChains: readonly (readonly LoadTask[])[]
  /** Run after every chain is done, in any order. */
  readonly indexTasks: readonly LoadTask[]
  readonly finishTasks: readonly LoadTask[]
}

/** Rows per generation statement: small enough for a lively progress bar, large enough to be cheap. */
export const CHUNK_ROWS = 50_000

// Relative cost per generated row, measured roughly on the 1M run (XML dominates).
const COST = { main: 1, erezeptMain: 1.6, daten: 2.5, status: 0.4, sparse: 0.08, items: 0.5, index: 0.25, analyze: 0.03 }

export function planTenant(tenant: TenantKey, database: string, rows: number, seed: number, schema: LegacySchema): TenantPlan {
  const counts = typeCounts(rows)
  const deliveries = deliveryCount(rows)
  const pharmacies = pharmacyCount(rows)
  const base = { seed, headers: Math.max(deliveries, 1), pharmacies: Math.max(pharmacies, 1) }

  const chunked = (label: string, statement: NamedStatement, count: number, weightPerRow: number, extra: ParameterValues = {}): LoadTask[] =>
    chunks(count).map(([lo, hi]) => ({
      label: `${label} ${hi}/${count}`,
      weight: (hi - lo + 1) * weightPerRow,
      statements: [bind(statement, { ...base, ...extra, lo, hi })],
    }))

  const loadChains: LoadTask[][] = []
  if (rows > 0) {
    loadChains.push([
      { label: 'pharmacies', weight: pharmacies, statements: [bind(DELIVERY_STATEMENTS.pharmacies, base)] },
      ...chunked('deliveries', DELIVERY_STATEMENTS.deliveries, deliveries, COST.main),
      ...chunked('delivery documents', DELIVERY_STATEMENTS.deliveryDocuments, deliveries, COST.daten),
    ])
  }
  for (const type of PRESCRIPTION_TYPES) {
    const count = counts[type.key]
    if (count === 0) continue
    const perType = { count }
    const satellites = SATELLITE_STATEMENTS[type.key]
    const main = MAIN_STATEMENTS[type.key]
    loadChains.push([
      ...chunked(`${type.label} rows`, main.main, count, type.key === 'erezept' ? COST.erezeptMain : COST.main, perType),
      ...chunked(`${type.label} daten`, satellites.daten, count, COST.daten, perType),
      ...chunked(`${type.label} second daten`, satellites.secondDaten, count, COST.sparse, perType),
      ...chunked(`${type.label} status`, satellites.status, count, COST.status, perType),
      ...chunked(`${type.label} second status`, satellites.secondStatus, count, COST.sparse, perType),
      edgeTask(type, count, seed),
    ])
    const sideChain = chunked(`${type.label} status info`, satellites.statusInfo, count, COST.sparse, perType)
    if (main.items) sideChain.unshift(...chunked(`${type.label} items`, main.items, count, COST.items, perType))
    loadChains.push(sideChain)
  }

  const tableRows = estimatedTableRows(counts, deliveries, pharmacies)
  const indexTasks = schema.indexes
    .map((statement) => ({ label: `index on ${indexTable(statement)}`, weight: (tableRows[indexTable(statement)] ?? 0) * COST.index + 1, statements: [{ text: statement, values: [] }] }))
    .sort((a, b) => b.weight - a.weight)
  const finishTasks = schema.tableNames.map((table) => ({
    label: `analyze ${table}`,
    weight: (tableRows[table] ?? 0) * COST.analyze + 1,
    statements: [
      // Ids were written explicitly: move each sequence past them so the legacy's inserts work.
      { text: `SELECT setval(pg_get_serial_sequence('${table}', '${schema.serialColumns[table]}'), coalesce(max(${schema.serialColumns[table]}), 0) + 1, false) FROM ${table}`, values: [] },
      // VACUUM, not only ANALYZE: it sets the visibility map, without which every index-only scan
      // of the fast paths reads the heap too and the figures would describe no real database.
      { text: `VACUUM (ANALYZE) ${table}`, values: [] },
    ],
  }))
  return {
    tenant, database, rows, counts, deliveries, pharmacies,
    createTables: { label: 'tables', weight: 5, statements: schema.tables.map((text) => ({ text, values: [] })) },
    loadChains: loadChains.filter((chain) => chain.length > 0).sort((a, b) => chainWeight(b) - chainWeight(a)),
    indexTasks,
    finishTasks,
  }
}

function edgeTask(type: PrescriptionType, count: number, seed: number): LoadTask {
  const statements = edgeStatements(type, count, seed)
  return { label: `${type.label} edge rows`, weight: statements.length * 0.5, statements }
}

export function chainWeight(chain: readonly LoadTask[]): number {
  return chain.reduce((sum, task) => sum + task.weight, 0)
}

export function planWeight(plan: TenantPlan): number {
  return plan.createTables.weight + plan.loadChains.reduce((s, c) => s + chainWeight(c), 0)
    + chainWeight(plan.indexTasks) + chainWeight(plan.finishTasks)
}

function chunks(count: number): [number, number][] {
  const ranges: [number, number][] = []
  for (let lo = 1; lo <= count; lo += CHUNK_ROWS) ranges.push([lo, Math.min(count, lo + CHUNK_ROWS - 1)])
  return ranges
}

function estimatedTableRows(counts: TypeCounts, deliveries: number, pharmacies: number): Record<string, number> {
  const rows: Record<string, number> = {
    er_apotheke: pharmacies, er_senderezepte_header: deliveries, er_senderezepte_header_daten: deliveries * 3,
  }
  for (const type of PRESCRIPTION_TYPES) {
    const n = counts[type.key]
    rows[type.table] = n
    rows[`${type.table}_daten`] = n * 3
    rows[`${type.table}_status`] = n
    rows[`${type.table}_statusinfo`] = n / 5
  }
  rows.er_senderezepte_emuster16_artikel = counts.emuster16 * 2
  rows.er_senderezepte_prezept_pcharge = counts.prezept * 1.5
  return rows
}
