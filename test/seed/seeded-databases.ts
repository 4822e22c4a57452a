// Test fixture for the seeder's suites: runs seed() under a t_seed_ prefix, opens the databases it
// made, and sums up a database's rows into one checksum per table.
import pg from 'pg'
import { seed, seedDatabaseNames, type SeedReport } from '../../sql/seed/seed.ts'
import { databaseUrl, pgAdminUrl } from '../../dev/services.ts'

export async function openDatabase(database: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: databaseUrl(database) })
  client.on('error', () => {})
  await client.connect()
  return client
}

export async function seedSmall(prefix: string, rows: number, kleinRows: number, seedValue = 1): Promise<SeedReport> {
  return seed({ adminUrl: pgAdminUrl(), prefix, rows, kleinRows, seed: seedValue })
}

/** md5 over every row of every table, in id order: equal exactly when ids and contents are equal. */
export async function databaseChecksums(database: string): Promise<Record<string, string>> {
  const client = await openDatabase(database)
  try {
    const tables = await client.query<{ name: string }>(
      "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    const sums: Record<string, string> = {}
    for (const { name } of tables.rows) {
      const result = await client.query<{ sum: string | null }>(
        `SELECT md5(string_agg(t::text, E'\\n' ORDER BY t::text)) AS sum FROM ${name} t`)
      sums[name] = result.rows[0]!.sum ?? 'empty'
    }
    return sums
  } finally {
    await client.end()
  }
}

/**
 * Where every row lies and what the planner knows, per table: md5 over the rows in ctid order with
 * their ctids, the table's relpages and reltuples, and its pg_stats. Equal exactly when the same rows
 * sit in the same physical places and the planner's estimates are the same.
 */
export async function physicalLayout(database: string): Promise<Record<string, string>> {
  const client = await openDatabase(database)
  try {
    const tables = await client.query<{ name: string; pages: number; tuples: number }>(
      `SELECT c.relname AS name, c.relpages AS pages, c.reltuples AS tuples FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' ORDER BY c.relname`)
    const layout: Record<string, string> = {}
    for (const { name, pages, tuples } of tables.rows) {
      const rows = await client.query<{ sum: string | null }>(
        `SELECT md5(string_agg(ctid::text || ' ' || t::text, E'\\n' ORDER BY ctid)) AS sum FROM ${name} t`)
      const stats = await client.query<{ sum: string | null }>(
        `SELECT md5(string_agg(concat_ws(' ', attname, null_frac, avg_width, n_distinct, most_common_vals, most_common_freqs,
                histogram_bounds, correlation), E'\\n' ORDER BY attname)) AS sum
           FROM pg_stats WHERE schemaname = 'public' AND tablename = $1`, [name])
      layout[name] = `rows ${rows.rows[0]!.sum ?? 'empty'}, ${pages} pages, ${tuples} tuples, stats ${stats.rows[0]!.sum ?? 'none'}`
    }
    return layout
  } finally {
    await client.end()
  }
}

/** Drops the databases of a prefix (tests clean up after themselves). */
export async function dropSeeded(prefix: string): Promise<void> {
  const names = seedDatabaseNames(prefix)
  // In parallel: each DROP DATABASE waits for a checkpoint, and concurrent ones share it.
  await Promise.all([names.arzsw, ...Object.values(names.tenants)].map(async (name) => {
    const admin = new pg.Client({ connectionString: pgAdminUrl() })
    await admin.connect()
    try {
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
    } finally {
      await admin.end()
    }
  }))
}
