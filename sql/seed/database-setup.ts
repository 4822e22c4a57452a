// Connections for seeding: reaching the server (with a message naming the redacted URL when it
// cannot be reached), (re)creating the databases, and the session settings for bulk loading.
import pg from 'pg'

export class SeedServerUnreachable extends Error {
  override readonly name = 'SeedServerUnreachable'
  readonly code = 'SEED_SERVER_UNREACHABLE'
}

/** The URL with its password replaced, for messages (never log a password). */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return '(an unparsable URL)'
  }
}

export function urlForDatabase(adminUrl: string, database: string): string {
  const url = new URL(adminUrl)
  url.pathname = `/${database}`
  return url.toString()
}

export async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000, application_name: 'arzti-fastpath seed' })
  client.on('error', () => {}) // a dropped connection surfaces as the failing query's error
  try {
    await client.connect()
  } catch (error) {
    await client.end().catch(() => {})
    throw new SeedServerUnreachable(`cannot connect to PostgreSQL at ${redactedUrl(url)}: ${describe(error)}`, { cause: error })
  }
  return client
}

function describe(error: unknown): string {
  const e = error as { message?: string; code?: string; errors?: { message?: string }[] }
  // Node reports a refused dual-stack connect as an AggregateError with an empty message.
  const message = e.message || e.errors?.map((inner) => inner.message).join('; ') || 'unknown error'
  return e.code && !message.includes(e.code) ? `${message} (${e.code})` : message
}

/** Database names come from a validated prefix; quoted anyway. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/**
 * Drops and creates the databases, each on its own connection at the same time: every DROP DATABASE
 * waits for a checkpoint, and concurrent requests share one (measured: 6 s per drop one after
 * another on a busy server, about the same for all four at once).
 */
export async function recreateDatabases(adminUrl: string, databases: readonly string[]): Promise<void> {
  const opened = await Promise.allSettled(databases.map(() => connect(adminUrl)))
  const clients = opened.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []))
  try {
    const failure = opened.find((result) => result.status === 'rejected')
    if (failure) throw failure.reason
    await Promise.all(databases.map(async (database, i) => {
      // FORCE ends sessions still connected to an old copy (a simulator left running, say).
      await clients[i]!.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(database)} WITH (FORCE)`)
      await clients[i]!.query(`CREATE DATABASE ${quoteIdentifier(database)}`)
    }))
  } finally {
    await Promise.all(clients.map((client) => client.end().catch(() => {})))
  }
}

/** Settings for this session only; the schema and the server's configuration stay untouched. */
export async function prepareLoadingSession(client: pg.Client): Promise<void> {
  // Tables are filled in any order (prescriptions before their deliveries): skip FK triggers.
  await client.query('SET session_replication_role = replica')
  await client.query('SET synchronous_commit = off')
  await client.query("SET maintenance_work_mem = '256MB'")
  // JIT compiling the wide generation statements costs more than it saves on 50k-row chunks.
  await client.query('SET jit = off')
  try {
    await client.query('SET default_toast_compression = lz4')
  } catch {
    // A server built without lz4 keeps pglz: slower to load, same rows.
  }
}
