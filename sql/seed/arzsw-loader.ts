// Fills the ArzSw management database: the three tenants, their databases (with Npgsql connection
// strings in three styles) and the API users with BCrypt or plain-text passwords.
import { createHash } from 'node:crypto'
import bcrypt from 'bcryptjs'
import type pg from 'pg'
import type { LegacySchema } from './legacy-schema.ts'
import { npgsqlConnectionString, type ServerAddress } from './tenant-connection-strings.ts'
import { SEED_USERS, type SeedDatabaseNames, type SeedUser, TENANT_KEYS, type TenantKey } from './tenants.ts'

const TENANT_TEXT: Readonly<Record<TenantKey, { code: string; name: string; description: string }>> = {
  gross: { code: 'gross', name: 'Großversand-Apotheken Süd', description: 'Großer Mandant: Benchmarks & Lasttests' },
  klein: { code: 'klein', name: 'Kleine Apotheke „Am Eck“', description: 'Kleiner Mandant mit Klartext-Passwort' },
  leer: { code: 'leer', name: 'Leerer Mandant', description: 'Neu angelegt, noch ohne Rezepte' },
}

export async function loadArzSw(
  client: pg.Client, schema: LegacySchema, names: SeedDatabaseNames, server: ServerAddress, seed: number,
): Promise<void> {
  for (const statement of [...schema.tables, ...schema.indexes]) await client.query(statement)
  for (const tenant of TENANT_KEYS) {
    const text = TENANT_TEXT[tenant]
    const mandant = await client.query<{ id: number }>(
      'INSERT INTO arzsw_mandant (code_kenner, mandant_name, beschreibung) VALUES ($1, $2, $3) RETURNING arzsw_mandant_id AS id',
      [text.code, text.name, text.description],
    )
    const database = names.tenants[tenant]
    // leer is marked inactive on purpose: the legacy does not check the flag (docs/legacy-contract.md §2, step 4).
    const datenbank = await client.query<{ id: number }>(
      `INSERT INTO arzsw_datenbank (arzsw_mandant_id, datenbank_name, datenbank_connection_string, datenbank_aktiv, beschreibung)
       VALUES ($1, $2, $3, $4, $5) RETURNING arzsw_datenbank_id AS id`,
      [mandant.rows[0]!.id, database, npgsqlConnectionString(tenant, server, database), tenant !== 'leer', `ApoTi ${text.code}`],
    )
    for (const user of SEED_USERS.filter((u) => u.tenant === tenant)) {
      const stored = await storedPassword(user, seed)
      await client.query(
        `INSERT INTO arzsw_benutzer (arzsw_mandant_id, arzsw_datenbank_id, benutzer_name, login_name, login_passwort,
           login_passwort_crypt, beschreibung) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [mandant.rows[0]!.id, datenbank.rows[0]!.id, `ARZ-Abholer ${text.code}`, user.login, stored.plain, stored.crypt,
          user.bcryptCost === null ? 'Altbenutzer: nur Klartext' : `BCrypt, Kosten ${user.bcryptCost}`],
      )
    }
  }
}

/**
 * BCrypt users get 'x' as plain text, so a fallback to the plain column would fail their login
 * instead of hiding a bug. The salt derives from the seed: same options, same hash.
 */
async function storedPassword(user: SeedUser, seed: number): Promise<{ plain: string; crypt: string | null }> {
  if (user.bcryptCost === null) return { plain: user.password, crypt: null }
  const saltBytes = [...createHash('sha256').update(`${seed}:${user.login}`).digest().subarray(0, 16)]
  const salt = `$2b$${String(user.bcryptCost).padStart(2, '0')}$${bcrypt.encodeBase64(saltBytes, 16)}`
  return { plain: 'x', crypt: await bcrypt.hash(user.password, salt) }
}
