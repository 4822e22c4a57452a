// `npm run indexes -- apply|status|drop [--arzsw URL]`: the fast path's additive indexes on every tenant database registered in ArzSw (docs/legacy-contract.md §11).
import pg from 'pg'
import { parseTenantDatabase, type TenantDatabase } from '../../tenants/npgsql-connection-string.ts'
import { FAST_PATH_INDEXES, INDEX_PREFIX } from './fastpath-indexes.ts'
import { ConfigError } from '../../config/load.ts'

export type IndexCommand = 'apply' | 'status' | 'drop'

export interface TenantIndexReport {
  readonly tenant: string
  /** Per index: present and valid, missing, or invalid (a failed CONCURRENTLY build). */
  readonly indexes: ReadonlyArray<{ name: string; state: 'valid' | 'missing' | 'invalid' }>
  /** fastpath_ indexes present that this version does not define (an older shape): `apply` and `drop` remove them. */
  readonly stale: readonly string[]
  readonly error?: string
}

/** Tenant databases of ArzSw, each once (several rows may name one database). */
export async function registeredTenants(arzswUrl: string): Promise<TenantDatabase[]> {
  const client = new pg.Client({ connectionString: arzswUrl })
  await client.connect()
  try {
    const rows = (await client.query<{ cs: string; name: string }>('SELECT datenbank_connection_string AS cs, datenbank_name AS name FROM arzsw_datenbank ORDER BY arzsw_datenbank_id')).rows
    const seen = new Map<string, TenantDatabase>()
    for (const row of rows) {
      try {
        const database = parseTenantDatabase(row.cs)
        if (!seen.has(database.identity)) seen.set(database.identity, database)
      } catch (error) {
        console.error(`skipping tenant database ${row.name}: ${(error as Error).message}`)
      }
    }
    return [...seen.values()]
  } finally {
    await client.end()
  }
}

async function indexStates(client: pg.Client): Promise<Map<string, boolean>> {
  const result = await client.query<{ name: string; valid: boolean }>(
    `SELECT c.relname AS name, i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE c.relname LIKE $1`, [`${INDEX_PREFIX.replaceAll('_', '\\_')}%`])
  return new Map(result.rows.map((r) => [r.name, r.valid]))
}

const DEFINED = new Set(FAST_PATH_INDEXES.map((i) => i.name))

/**
 * Runs one command on one tenant database. `apply` first drops every fastpath_ index this version
 * does not define: an older shape may be one the legacy's own statements use (the v1 set was,
 * issue 26), so leaving it would keep changing what the legacy reads and writes. It rebuilds an
 * index a failed build left invalid. It does not ANALYZE: the indexes have no expression to gather
 * statistics for, and a fresh sample of the legacy's tables could change the legacy's plans itself.
 */
export async function runOnTenant(command: IndexCommand, database: TenantDatabase): Promise<TenantIndexReport> {
  const client = new pg.Client({
    host: database.host, port: database.port, database: database.database, user: database.user,
    ...(database.password === undefined ? {} : { password: database.password }),
    connectionTimeoutMillis: 5000,
  })
  client.on('error', () => {})
  try {
    await client.connect()
    let states = await indexStates(client)
    if (command === 'apply') {
      for (const name of states.keys()) {
        if (!DEFINED.has(name)) await client.query(`DROP INDEX CONCURRENTLY IF EXISTS ${name}`)
      }
      for (const index of FAST_PATH_INDEXES) {
        if (states.get(index.name) === false) await client.query(`DROP INDEX CONCURRENTLY IF EXISTS ${index.name}`)
        await client.query(index.createSql)
      }
    } else if (command === 'drop') {
      // Every index with our prefix, also ones an older version created.
      for (const name of states.keys()) await client.query(`DROP INDEX CONCURRENTLY IF EXISTS ${name}`)
    }
    states = await indexStates(client)
    return {
      tenant: database.label,
      indexes: FAST_PATH_INDEXES.map((i) => ({ name: i.name, state: states.has(i.name) ? (states.get(i.name) ? 'valid' : 'invalid') : 'missing' })),
      stale: [...states.keys()].filter((name) => !DEFINED.has(name)).sort(),
    }
  } catch (error) {
    return { tenant: database.label, indexes: [], stale: [], error: (error as Error).message }
  } finally {
    await client.end().catch(() => {})
  }
}

export async function runIndexCommand(command: IndexCommand, arzswUrl: string): Promise<TenantIndexReport[]> {
  const reports: TenantIndexReport[] = []
  for (const database of await registeredTenants(arzswUrl)) reports.push(await runOnTenant(command, database))
  return reports
}

function parseArguments(argv: readonly string[], env: NodeJS.ProcessEnv): { command: IndexCommand; arzswUrl: string } {
  const command = argv[0]
  if (command !== 'apply' && command !== 'status' && command !== 'drop') {
    throw new ConfigError(['usage: npm run indexes -- apply|status|drop [--arzsw postgres://.../arzsw] (or FASTPATH_ARZSW_URL)'])
  }
  const flag = argv.indexOf('--arzsw')
  const arzswUrl = flag >= 0 ? argv[flag + 1] : env.FASTPATH_ARZSW_URL
  if (!arzswUrl) throw new ConfigError(['--arzsw / FASTPATH_ARZSW_URL: the ArzSw database is needed (postgres://...)'])
  return { command, arzswUrl }
}

if (import.meta.main) {
  try {
    const { command, arzswUrl } = parseArguments(process.argv.slice(2), process.env)
    const reports = await runIndexCommand(command, arzswUrl)
    let failed = false
    for (const report of reports) {
      if (report.error !== undefined) {
        failed = true
        console.log(`${report.tenant}: ERROR ${report.error}`)
        continue
      }
      const stale = report.stale.length === 0 ? '' : ` stale, dropped by apply: ${report.stale.join(' ')}`
      console.log(`${report.tenant}: ${report.indexes.map((i) => `${i.name}=${i.state}`).join(' ')}${stale}`)
    }
    process.exitCode = failed ? 1 : 0
  } catch (error) {
    console.error((error as Error).message)
    process.exitCode = 2
  }
}
