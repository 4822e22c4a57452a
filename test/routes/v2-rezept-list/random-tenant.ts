// Builds a tenant database of randomised prescriptions from a seeded PRNG (every §4 rule and §1 character class mixed at random) and registers a user for it in ArzSw.
import { readFile } from 'node:fs/promises'
import pg from 'pg'
import { databaseUrl, pgAdminUrl } from '../../../dev/services.ts'

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const PIECES = ['a', 'Z', '0', ' ', '/', '"', '\\', '<', '>', '&', "'", '+', '`', '\b', '\f', '\n', '\r', '\t', '\u0001', '\u001f', '\u007f',
  'ä', 'Ö', 'ß', '€', '\u2028', '\uFEFF', '中', '😀', '𝄞', '&amp;', '<Arzt name="Dr. Müller">', '=', '~', '%', '#', '{', '}']
const STATUSES = ['VOR_PRUEFUNG', 'VOR_ABRECHNUNG', 'FEHLER', 'VERBESSERBAR', 'RUECKWEISUNG', 'ABGERECHNET', 'STORNIERT', 'HINWEIS', 'ABRECHENBAR', 'GELESEN']
const BIGINTS = ['0', '1', '-1', '9007199254740993', '9223372036854775807', '-9223372036854775808', '123456789012345678', '42']

export interface RandomTenant {
  readonly database: string
  readonly login: string
  readonly password: string
}

/** Creates (or recreates) `database` with the apoti schema and `perType` random prescriptions per type. */
export async function createRandomTenant(options: { arzswUrl: string; database: string; login: string; password: string; seed: number; perType: number }): Promise<RandomTenant> {
  const random = seededRandom(options.seed)
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!
  const text = (max: number): string => {
    let s = ''
    const n = Math.floor(random() * max)
    for (let i = 0; i < n; i++) s += pick(PIECES)
    return s
  }
  const admin = new pg.Client({ connectionString: pgAdminUrl() })
  await admin.connect()
  await admin.query(`DROP DATABASE IF EXISTS ${options.database} WITH (FORCE)`)
  await admin.query(`CREATE DATABASE ${options.database}`)
  await admin.end()
  const db = new pg.Client({ connectionString: databaseUrl(options.database) })
  await db.connect()
  try {
    await db.query(await readFile(new URL('../../../sql/legacy/apoti.sql', import.meta.url), 'utf8'))
    await db.query(`INSERT INTO er_senderezepte_header (apo_int_nr, rz_liefer_id) VALUES ('1', 'R1')`)
    let uuid = 0
    for (const stem of ['emuster16', 'prezept', 'erezept']) {
      const numberColumn = stem === 'emuster16' ? 'muster16_id' : stem === 'prezept' ? 'transaktions_nummer' : 'erezept_id'
      for (let i = 0; i < options.perType; i++) {
        const number = random() < 0.2 ? null : stem === 'erezept' ? text(12) : pick(BIGINTS)
        const main = await db.query<{ id: number }>(
          `INSERT INTO er_senderezepte_${stem} (id_senderezepte_header, rz_liefer_id, ${numberColumn}) VALUES (1, $1, $2) RETURNING id_senderezepte_${stem} AS id`,
          [text(6).slice(0, 23), number])
        const id = main.rows[0]!.id
        // Mostly new rows (false), with NULL and true mixed in; 0 to 3 daten rows.
        const datenCount = Math.floor(random() * 4)
        for (let d = 0; d < datenCount; d++) {
          const transfer = random() < 0.6 ? false : random() < 0.5 ? null : true
          await db.query(`INSERT INTO er_senderezepte_${stem}_daten (id_senderezepte_${stem}, rezept_uuid, transfer_arz, xml_request) VALUES ($1, $2, $3, $4)`,
            [id, `u${uuid++}${text(3)}`.slice(0, 40), transfer, text(40)])
        }
        const statusCount = Math.floor(random() * 3)
        for (let s = 0; s < statusCount; s++) {
          const date = random() < 0.25 ? null : `${String(1 + Math.floor(random() * 9999)).padStart(4, '0')}-${String(1 + Math.floor(random() * 12)).padStart(2, '0')}-${String(1 + Math.floor(random() * 28)).padStart(2, '0')}`
          const fraction = random() < 0.5 ? '' : '.' + String(Math.floor(random() * 1_000_000)).padStart(6, '0').slice(0, 1 + Math.floor(random() * 6))
          const time = random() < 0.25 ? null : `${String(Math.floor(random() * 24)).padStart(2, '0')}:${String(Math.floor(random() * 60)).padStart(2, '0')}:${String(Math.floor(random() * 60)).padStart(2, '0')}${fraction}`
          await db.query(`INSERT INTO er_senderezepte_${stem}_status (id_senderezepte_${stem}, rezept_status, abrechen_status, status_abfrage_datum, status_abfrage_zeit) VALUES ($1, $2, $3, $4, $5)`,
            [id, random() < 0.1 ? null : pick(STATUSES), random() < 0.2 ? null : pick(STATUSES), date, time])
        }
      }
    }
    await db.query('ANALYZE')
  } finally {
    await db.end()
  }
  const arzsw = new pg.Client({ connectionString: options.arzswUrl })
  await arzsw.connect()
  try {
    const server = new URL(pgAdminUrl())
    const connection = `Host=${server.hostname};Port=${server.port || 5432};Database=${options.database};Username=${decodeURIComponent(server.username) || 'postgres'}` +
      (server.password ? `;Password=${decodeURIComponent(server.password)}` : '')
    const mandant = await arzsw.query<{ id: number }>(`INSERT INTO arzsw_mandant (code_kenner, mandant_name) VALUES ($1, 'Zufall') RETURNING arzsw_mandant_id AS id`, [options.login.slice(0, 20)])
    const datenbank = await arzsw.query<{ id: number }>(
      `INSERT INTO arzsw_datenbank (arzsw_mandant_id, datenbank_name, datenbank_connection_string) VALUES ($1, $2, $3) RETURNING arzsw_datenbank_id AS id`,
      [mandant.rows[0]!.id, options.database, connection])
    await arzsw.query(`INSERT INTO arzsw_benutzer (arzsw_mandant_id, arzsw_datenbank_id, benutzer_name, login_name, login_passwort) VALUES ($1, $2, 'Zufall', $3, $4)`,
      [mandant.rows[0]!.id, datenbank.rows[0]!.id, options.login, options.password])
  } finally {
    await arzsw.end()
  }
  return { database: options.database, login: options.login, password: options.password }
}
