// The embedded demo `npm start` runs without LEGACY_URL: a PostgreSQL (the one at PG_ADMIN_URL when
// reachable, with `demo_` databases, else an embedded one), seeded small, and the legacy simulator.
import pg from 'pg'
import { startLegacySim } from '../../legacy-sim/server.ts'
import { seed, seedDatabaseNames, SEED_USERS } from '../../sql/seed/seed.ts'
import { startEmbeddedPostgres } from './embedded-postgres.ts'

const DEFAULT_PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres'

export interface Demo {
  readonly legacyUrl: string
  readonly arzswUrl: string
  readonly user: { readonly login: string; readonly password: string }
  close(): Promise<void>
}

export interface DemoOptions {
  readonly pgAdminUrl?: string
  readonly prefix: string
  readonly rows: number
  readonly maxPageSize: number
  readonly environment: string
  readonly log: (message: string) => void
}

export async function startDemo(options: DemoOptions): Promise<Demo> {
  const candidate = options.pgAdminUrl ?? DEFAULT_PG_ADMIN_URL
  let adminUrl = candidate
  let stopPostgres = async () => {}
  if (await reachable(candidate)) {
    options.log(`demo: using the PostgreSQL at PG_ADMIN_URL (databases prefixed ${options.prefix})`)
  } else {
    options.log('demo: no PostgreSQL reachable; starting an embedded one')
    const embedded = await startEmbeddedPostgres()
    adminUrl = embedded.adminUrl
    stopPostgres = () => embedded.stop()
  }
  options.log('demo: seeding a small data set')
  await seed({ adminUrl, prefix: options.prefix, rows: options.rows, kleinRows: 300 })
  const arzsw = new URL(adminUrl)
  arzsw.pathname = `/${seedDatabaseNames(options.prefix).arzsw}`
  const arzswUrl = arzsw.toString()
  const sim = await startLegacySim({ arzswUrl, host: '127.0.0.1', port: 0, maxPageSize: options.maxPageSize, environment: options.environment })
  const user = SEED_USERS[0]!
  return {
    legacyUrl: sim.url,
    arzswUrl,
    user: { login: user.login, password: user.password },
    close: async () => {
      await sim.close()
      await stopPostgres()
    },
  }
}

async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1500 })
  client.on('error', () => {})
  try {
    await client.connect()
    return true
  } catch {
    return false
  } finally {
    await client.end().catch(() => {})
  }
}
