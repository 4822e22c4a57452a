// The data a benchmark run needs, made where missing: the seeded installation of the given prefix (seeded
// and indexed when absent or of another size), the benchmark's own BCrypt users in ArzSw (the seeder's
// defaults stay as they are), and already-collected prescriptions for the write requests to touch.
import { spawn } from 'node:child_process'
import bcrypt from 'bcryptjs'
import pg from 'pg'
import { FAST_PATH_INDEXES } from '../sql/indexes/fastpath-indexes.ts'
import { PRESCRIPTION_TYPES } from '../sql/queries/prescription-types.ts'
import { benchUserLogin, type ScenarioFile, type WriteTarget } from './scenario-model.ts'

export interface PreparedData {
  readonly arzswUrl: string
  /** The big tenant's database, for the raw SQL floor. */
  readonly grossUrl: string
  readonly benchUserCount: number
  readonly writeTargets: readonly WriteTarget[]
  /** What preparation did, for the report. */
  readonly steps: readonly string[]
}

export interface PrepareOptions {
  readonly pgAdminUrl: string
  readonly prefix: string
  readonly rows: number
  readonly kleinRows: number
  readonly benchUsers: number
  readonly log: (line: string) => void
}

const ROOT = new URL('..', import.meta.url).pathname

export function databaseUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl)
  url.pathname = `/${database}`
  return url.toString()
}

export async function prepareData(file: ScenarioFile, options: PrepareOptions): Promise<PreparedData> {
  const steps: string[] = []
  const arzswUrl = databaseUrl(options.pgAdminUrl, `${options.prefix}arzsw`)
  const grossUrl = databaseUrl(options.pgAdminUrl, `${options.prefix}apoti_gross`)
  const rows = await countedRows(grossUrl)
  if (rows !== options.rows) {
    options.log(`seeding ${options.prefix}* with ${options.rows} prescriptions (found ${rows ?? 'no database'})`)
    await run([`${ROOT}sql/seed/main.ts`, '--rows', String(options.rows), '--klein-rows', String(options.kleinRows), '--prefix', options.prefix, '--seed', '1'], options.pgAdminUrl)
    steps.push(`seeded ${options.prefix}* (${options.rows} rows)`)
  }
  if (!(await indexesPresent(grossUrl))) {
    options.log('applying the fast-path indexes')
    await run([`${ROOT}sql/indexes/index-cli.ts`, 'apply', '--arzsw', arzswUrl], options.pgAdminUrl)
    steps.push('applied the fast-path indexes')
  }
  const added = await ensureBenchUsers(file, arzswUrl, options.benchUsers)
  if (added > 0) steps.push(`added ${added} bench users`)
  return { arzswUrl, grossUrl, benchUserCount: options.benchUsers, writeTargets: await writeTargets(grossUrl), steps }
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await use(client)
  } finally {
    await client.end()
  }
}

/** Prescriptions in the gross tenant (main rows of the three types), or undefined without the database. */
async function countedRows(grossUrl: string): Promise<number | undefined> {
  try {
    return await withClient(grossUrl, async (client) => {
      let total = 0
      for (const type of PRESCRIPTION_TYPES) total += Number((await client.query(`SELECT count(*) AS n FROM ${type.main}`)).rows[0].n)
      return total
    })
  } catch (error) {
    if ((error as { code?: string }).code === '3D000') return undefined // no such database
    throw error
  }
}

// Exactly today's set, valid: a world indexed with an older shape (issue 26) is applied again, which drops it.
async function indexesPresent(grossUrl: string): Promise<boolean> {
  return withClient(grossUrl, async (client) => {
    const rows = (await client.query<{ name: string; valid: boolean }>(`SELECT c.relname AS name, i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname LIKE 'fastpath\\_%'`)).rows
    const wanted = FAST_PATH_INDEXES.map((index) => index.name).sort()
    return rows.every((r) => r.valid) && JSON.stringify(rows.map((r) => r.name).sort()) === JSON.stringify(wanted)
  })
}

function run(args: string[], pgAdminUrl: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, PG_ADMIN_URL: pgAdminUrl }, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
    child.once('exit', (code) => code === 0 ? resolve() : reject(new Error(`${args[0]} exited ${code}:\n${output.slice(-2000)}`)))
  })
}

/** The benchmark's users on the gross tenant: one BCrypt hash shared by all (their logins differ, so each is its own credential to verify). */
async function ensureBenchUsers(file: ScenarioFile, arzswUrl: string, count: number): Promise<number> {
  return withClient(arzswUrl, async (client) => {
    const present = new Set((await client.query<{ login_name: string }>('SELECT login_name FROM arzsw_benutzer WHERE login_name LIKE $1', [`${file.benchUsers.loginPrefix}%`])).rows.map((r) => r.login_name))
    const missing = Array.from({ length: count }, (_, i) => benchUserLogin(file, i)).filter((login) => !present.has(login))
    if (missing.length === 0) return 0
    const owner = (await client.query<{ arzsw_mandant_id: number; arzsw_datenbank_id: number }>(
      `SELECT b.arzsw_mandant_id, b.arzsw_datenbank_id FROM arzsw_benutzer b JOIN arzsw_mandant m USING (arzsw_mandant_id) WHERE m.code_kenner = $1 ORDER BY b.arzsw_benutzer_id LIMIT 1`,
      [file.benchUsers.tenant])).rows[0]
    if (owner === undefined) throw new Error(`no user of tenant ${file.benchUsers.tenant} to copy for the bench users`)
    const hash = await bcrypt.hash(file.benchUsers.password, file.benchUsers.bcryptCost)
    await client.query(
      `INSERT INTO arzsw_benutzer (arzsw_mandant_id, arzsw_datenbank_id, benutzer_name, login_name, login_passwort, login_passwort_crypt, beschreibung)
       SELECT $1, $2, login, login, 'x', $3, 'benchmark user (bench/prepare-data.ts)' FROM unnest($4::text[]) AS login`,
      [owner.arzsw_mandant_id, owner.arzsw_datenbank_id, hash, missing])
    return missing.length
  })
}

/** Per type, prescriptions whose daten rows are all collected: a status write to them never changes a list answer. */
async function writeTargets(grossUrl: string): Promise<WriteTarget[]> {
  return withClient(grossUrl, async (client) => {
    const targets: WriteTarget[] = []
    for (const type of PRESCRIPTION_TYPES) {
      const rows = (await client.query<{ rezept_uuid: string }>(
        `SELECT d.rezept_uuid FROM ${type.daten} d
          WHERE d.transfer_arz AND NOT EXISTS (SELECT 1 FROM ${type.daten} o WHERE o.${type.mainId} = d.${type.mainId} AND o.transfer_arz IS NOT TRUE)
          ORDER BY d.${type.datenId} LIMIT 4`)).rows
      for (const row of rows) targets.push({ type: type.name, rezeptUuid: row.rezept_uuid })
    }
    if (targets.length === 0) throw new Error('no collected prescription to write to')
    return targets
  })
}
