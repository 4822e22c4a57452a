// The seeder's programmatic API: (re)creates ArzSw and the three tenant databases on a PostgreSQL
// server and fills them with deterministic, realistic data. Importing it has no side effects.
import type pg from 'pg'
import { loadArzSw } from './arzsw-loader.ts'
import { runChains } from './chain-runner.ts'
import { connect, prepareLoadingSession, recreateDatabases, urlForDatabase } from './database-setup.ts'
import { readLegacySchema } from './legacy-schema.ts'
import { planTenant, planWeight, type LoadTask, type TenantPlan } from './load-plan.ts'
import { serverAddressOf } from './tenant-connection-strings.ts'
import { PRESCRIPTION_TYPES, type PrescriptionTypeKey, type TypeCounts } from './prescription-types.ts'
import { seedDatabaseNames, type SeedDatabaseNames, TENANT_KEYS, type TenantKey } from './tenants.ts'

export { EDGE_CASES, edgeRowId, type EdgeCase } from './edge-rows.ts'
export { redactedUrl, SeedServerUnreachable } from './database-setup.ts'
export { PRESCRIPTION_TYPES, typeCounts, type PrescriptionType, type TypeCounts } from './prescription-types.ts'
export { DEFAULT_PREFIX, SEED_USERS, seedDatabaseNames, seedUserFor, TENANT_KEYS, type SeedDatabaseNames, type SeedUser, type TenantKey } from './tenants.ts'

export interface SeedOptions {
  /** postgres:// URL of a superuser on the target server (PG_ADMIN_URL). */
  adminUrl: string
  /** Database name prefix, e.g. fastpath_ (letters, digits, underscores). */
  prefix: string
  /** Prescriptions in the gross tenant. */
  rows: number
  /** Prescriptions in the klein tenant; default 5000. */
  kleinRows?: number
  /** Same seed and options, same rows (ids and content); default 1. */
  seed?: number
}

export const DEFAULT_KLEIN_ROWS = 5000
export const DEFAULT_SEED = 1
/** A non-empty tenant needs this many rows so that every type holds all edge rows (edge-rows.ts). */
export const MIN_ROWS = 300
/** Above this the int4 ids of second rows (2 × rows per type) could overflow. */
export const MAX_ROWS = 100_000_000

export interface SeedProgress {
  readonly phase: 'databases' | 'arzsw' | 'load' | 'indexes' | 'analyze' | 'done'
  readonly tenant: TenantKey | null
  readonly label: string
  /** Work done and total work, in the plan's weight units: done / total is the fraction. */
  readonly done: number
  readonly total: number
}

export interface TenantReport {
  readonly tenant: TenantKey
  readonly database: string
  readonly prescriptions: TypeCounts
  /** New per docs/legacy-contract.md §4: a daten row with transfer_arz false and no ABGERECHNET status row. */
  readonly newPrescriptions: TypeCounts
  readonly deliveries: number
  readonly pharmacies: number
  readonly bytes: number
  readonly milliseconds: number
}

export interface SeedReport {
  readonly databases: SeedDatabaseNames
  readonly tenants: readonly TenantReport[]
  readonly milliseconds: number
}

export async function seed(options: SeedOptions, onProgress: (progress: SeedProgress) => void = () => {}): Promise<SeedReport> {
  const settings = validated(options)
  const started = performance.now()
  const names = seedDatabaseNames(settings.prefix)
  const [arzswSchema, apotiSchema] = await Promise.all([readLegacySchema('arzsw'), readLegacySchema('apoti')])
  const rowsOf: Record<TenantKey, number> = { gross: settings.rows, klein: settings.kleinRows, leer: 0 }
  const plans = TENANT_KEYS.map((tenant) => planTenant(tenant, names.tenants[tenant], rowsOf[tenant], settings.seed, apotiSchema))
  const setupWeight = 20
  const total = setupWeight + plans.reduce((sum, plan) => sum + planWeight(plan), 0)
  let done = 0
  const report = (phase: SeedProgress['phase'], tenant: TenantKey | null, label: string, weight = 0): void => {
    done += weight
    onProgress({ phase, tenant, label, done: Math.min(done, total), total })
  }

  report('databases', null, 'creating databases')
  await recreateDatabases(settings.adminUrl, [names.arzsw, ...TENANT_KEYS.map((t) => names.tenants[t])])
  report('arzsw', null, 'ArzSw tenants and users', setupWeight / 2)
  const arzsw = await connect(urlForDatabase(settings.adminUrl, names.arzsw))
  try {
    await loadArzSw(arzsw, arzswSchema, names, serverAddressOf(settings.adminUrl), settings.seed)
  } finally {
    await arzsw.end()
  }
  report('arzsw', null, 'ArzSw done', setupWeight / 2)

  const tenants: TenantReport[] = []
  for (const plan of plans) tenants.push(await seedTenant(settings.adminUrl, plan, report))
  report('done', null, 'done')
  return { databases: names, tenants, milliseconds: Math.round(performance.now() - started) }
}

type Reporter = (phase: SeedProgress['phase'], tenant: TenantKey | null, label: string, weight?: number) => void

async function seedTenant(adminUrl: string, plan: TenantPlan, report: Reporter): Promise<TenantReport> {
  const started = performance.now()
  const url = urlForDatabase(adminUrl, plan.database)
  // Two connections: the machine this targets has two cores (issue 2: "two connections in parallel").
  const clients = [await connect(url)]
  try {
    clients.push(await connect(url))
    await Promise.all(clients.map(prepareLoadingSession))
    const taskDone = (phase: SeedProgress['phase']) => (task: LoadTask) => report(phase, plan.tenant, task.label, task.weight)
    await runChains(clients.slice(0, 1), [[plan.createTables]], taskDone('load'))
    await runChains(clients, plan.loadChains, taskDone('load'), { oneTransactionPerChain: true })
    await runChains(clients, plan.indexTasks.map((task) => [task]), taskDone('indexes'))
    await runChains(clients, plan.finishTasks.map((task) => [task]), taskDone('analyze'))
    report('analyze', plan.tenant, 'counting new prescriptions')
    const newPrescriptions = await countNew(clients[0]!)
    const size = await clients[0]!.query<{ bytes: string }>('SELECT pg_database_size(current_database())::text AS bytes')
    return {
      tenant: plan.tenant, database: plan.database, prescriptions: plan.counts, newPrescriptions,
      deliveries: plan.deliveries, pharmacies: plan.pharmacies, bytes: Number(size.rows[0]!.bytes),
      milliseconds: Math.round(performance.now() - started),
    }
  } finally {
    await Promise.all(clients.map((client) => client.end().catch(() => {})))
  }
}

async function countNew(client: pg.Client): Promise<TypeCounts> {
  const counts: Partial<Record<PrescriptionTypeKey, number>> = {}
  for (const type of PRESCRIPTION_TYPES) {
    const result = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${type.table} m
       WHERE EXISTS (SELECT 1 FROM ${type.table}_daten d WHERE d.${type.idColumn} = m.${type.idColumn} AND d.transfer_arz = false)
         AND NOT EXISTS (SELECT 1 FROM ${type.table}_status s WHERE s.${type.idColumn} = m.${type.idColumn} AND s.rezept_status = 'ABGERECHNET')`,
    )
    counts[type.key] = result.rows[0]!.n
  }
  return counts as TypeCounts
}

interface ValidSettings {
  readonly adminUrl: string
  readonly prefix: string
  readonly rows: number
  readonly kleinRows: number
  readonly seed: number
}

/** The API checks what the CLI checks, so a caller's mistake fails before any database is dropped. */
export function validated(options: SeedOptions): ValidSettings {
  const kleinRows = options.kleinRows ?? DEFAULT_KLEIN_ROWS
  const seedValue = options.seed ?? DEFAULT_SEED
  if (!/^[a-z_][a-z0-9_]{0,40}$/.test(options.prefix)) {
    throw new RangeError(`prefix must be lower-case letters, digits and underscores (at most 41, not starting with a digit), got "${options.prefix}"`)
  }
  for (const [name, value] of [['rows', options.rows], ['kleinRows', kleinRows]] as const) {
    if (!Number.isSafeInteger(value) || (value !== 0 && (value < MIN_ROWS || value > MAX_ROWS))) {
      throw new RangeError(`${name} must be 0 or an integer from ${MIN_ROWS} to ${MAX_ROWS}, got ${value}`)
    }
  }
  if (!Number.isSafeInteger(seedValue) || Math.abs(seedValue) > 2 ** 40) {
    throw new RangeError(`seed must be an integer between -2^40 and 2^40, got ${seedValue}`)
  }
  try {
    const url = new URL(options.adminUrl)
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw new Error('protocol')
  } catch {
    throw new RangeError('adminUrl must be a postgres:// URL')
  }
  return { adminUrl: options.adminUrl, prefix: options.prefix, rows: options.rows, kleinRows, seed: seedValue }
}
