// Adds API users with their own tenant database rows to a seeded ArzSw, for the isolation and fallback tests.
import pg from 'pg'

export async function addUser(arzswUrl: string, login: string, password: string, connectionString: string): Promise<void> {
  const arzsw = new pg.Client({ connectionString: arzswUrl })
  await arzsw.connect()
  try {
    const mandant = await arzsw.query<{ id: number }>(`INSERT INTO arzsw_mandant (code_kenner, mandant_name) VALUES ($1, $1) RETURNING arzsw_mandant_id AS id`, [login.slice(0, 20)])
    const datenbank = await arzsw.query<{ id: number }>(
      `INSERT INTO arzsw_datenbank (arzsw_mandant_id, datenbank_name, datenbank_connection_string) VALUES ($1, $2, $3) RETURNING arzsw_datenbank_id AS id`,
      [mandant.rows[0]!.id, `db-of-${login}`, connectionString])
    await arzsw.query(`INSERT INTO arzsw_benutzer (arzsw_mandant_id, arzsw_datenbank_id, benutzer_name, login_name, login_passwort) VALUES ($1, $2, $3, $3, $4)`,
      [mandant.rows[0]!.id, datenbank.rows[0]!.id, login, password])
  } finally {
    await arzsw.end()
  }
}

export async function execute(url: string, sql: string, values: unknown[] = []): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(sql, values)
  } finally {
    await client.end()
  }
}
