// Test fixture for the legacy simulator: own databases (prefix t_sim_) from sql/legacy/*.sql, users, rows, a running simulator.
import { readFile } from 'node:fs/promises'
import bcrypt from 'bcryptjs'
import pg from 'pg'
import { startLegacySim, type LegacySimHandle } from '../../legacy-sim/server.ts'
import { databaseUrl, pgAdminUrl } from '../../dev/services.ts'

export const PLAIN_USER = { login: 'apo-plain', password: 'klartext:mit:doppelpunkt' }
export const BCRYPT_USER = { login: 'apo-crypt', password: 'Geheim-Ärzt-1' }

export type TypeStem = 'emuster16' | 'prezept' | 'erezept'

export interface DatenSpec { uuid: string; transfer: boolean | null; xml?: string }
export interface StatusSpec { rezept: string | null; abrechen?: string | null; datum?: string | null; zeit?: string | null }
export interface PrescriptionSpec {
  id: number
  rzLieferId?: string
  /** muster16_id / transaktions_nummer (bigint text) or erezept_id. */
  number?: string | null
  daten: DatenSpec[]
  status?: StatusSpec[]
}

export interface SimFixture {
  sim: LegacySimHandle
  apoti: pg.Pool
  arzsw: pg.Pool
  apotiDb: string
  insert(stem: TypeStem, spec: PrescriptionSpec): Promise<void>
  close(): Promise<void>
}

const NUMBER_COLUMN: Record<TypeStem, string> = { emuster16: 'muster16_id', prezept: 'transaktions_nummer', erezept: 'erezept_id' }

async function recreate(admin: pg.Client, db: string, schemaFile: string): Promise<void> {
  await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`)
  await admin.query(`CREATE DATABASE ${db}`)
  const client = new pg.Client({ connectionString: databaseUrl(db) })
  await client.connect()
  await client.query(await readFile(new URL(`../../sql/legacy/${schemaFile}`, import.meta.url), 'utf8'))
  await client.end()
}

/** Npgsql keyword string for a database on the test server, written with synonyms and odd casing on purpose. */
export function npgsqlStringFor(db: string): string {
  const url = new URL(pgAdminUrl())
  const password = url.password ? `;PWD='${decodeURIComponent(url.password).replaceAll("'", "''")}'` : ''
  return `SERVER=${url.hostname};port=${url.port || 5432};Initial Catalog=${db};User ID=${decodeURIComponent(url.username) || 'postgres'}${password};Maximum Pool Size=5`
}

export async function createSimFixture(name: string, simOptions: { maxPageSize?: number; environment?: string } = {}): Promise<SimFixture> {
  const arzswDb = `t_sim_${name}_arzsw`
  const apotiDb = `t_sim_${name}_apoti`
  const admin = new pg.Client({ connectionString: pgAdminUrl() })
  await admin.connect()
  await recreate(admin, arzswDb, 'arzsw.sql')
  await recreate(admin, apotiDb, 'apoti.sql')
  await admin.end()

  const arzsw = new pg.Pool({ connectionString: databaseUrl(arzswDb), max: 2 })
  const apoti = new pg.Pool({ connectionString: databaseUrl(apotiDb), max: 3 })
  // Other suites terminate backends on a shared server; an idle fixture connection dying must not crash the file.
  arzsw.on('error', () => {})
  apoti.on('error', () => {})
  await arzsw.query(`INSERT INTO arzsw_mandant (arzsw_mandant_id, code_kenner, mandant_name) VALUES (1, 'M1', 'Mandant 1')`)
  await arzsw.query(`INSERT INTO arzsw_datenbank (arzsw_datenbank_id, arzsw_mandant_id, datenbank_name, datenbank_connection_string, datenbank_aktiv)
                     VALUES (1, 1, 'apoti', $1, false)`, [npgsqlStringFor(apotiDb)])
  await arzsw.query(`INSERT INTO arzsw_benutzer (arzsw_mandant_id, arzsw_datenbank_id, benutzer_name, login_name, login_passwort, login_passwort_crypt)
                     VALUES (1, 1, 'Plain', $1, $2, NULL), (1, 1, 'Crypt', $3, 'not-this-one', $4)`,
  [PLAIN_USER.login, PLAIN_USER.password, BCRYPT_USER.login, bcrypt.hashSync(BCRYPT_USER.password, 4)])
  await apoti.query(`INSERT INTO er_senderezepte_header (id_senderezepte_header, apo_int_nr, rz_liefer_id) VALUES (1, '1', 'L1')`)

  const sim = await startLegacySim({ arzswUrl: databaseUrl(arzswDb), port: 0, ...simOptions })
  return {
    sim, apoti, arzsw, apotiDb,
    async insert(stem, spec) {
      await apoti.query(`INSERT INTO er_senderezepte_${stem} (id_senderezepte_${stem}, id_senderezepte_header, rz_liefer_id, ${NUMBER_COLUMN[stem]})
                         VALUES ($1, 1, $2, $3)`, [spec.id, spec.rzLieferId ?? `RZ-${spec.id}`, spec.number ?? null])
      for (const d of spec.daten) {
        await apoti.query(`INSERT INTO er_senderezepte_${stem}_daten (id_senderezepte_${stem}, rezept_uuid, transfer_arz, xml_request) VALUES ($1, $2, $3, $4)`,
          [spec.id, d.uuid, d.transfer, d.xml ?? `<x id="${spec.id}"/>`])
      }
      for (const s of spec.status ?? []) {
        await apoti.query(`INSERT INTO er_senderezepte_${stem}_status (id_senderezepte_${stem}, rezept_status, abrechen_status, status_abfrage_datum, status_abfrage_zeit)
                           VALUES ($1, $2, $3, $4, $5)`, [spec.id, s.rezept, s.abrechen ?? null, s.datum ?? null, s.zeit ?? null])
      }
    },
    async close() {
      try {
        await sim.close()
      } finally {
        await arzsw.end()
        await apoti.end()
      }
      const a = new pg.Client({ connectionString: pgAdminUrl() })
      await a.connect()
      await a.query(`DROP DATABASE IF EXISTS ${arzswDb} WITH (FORCE)`)
      await a.query(`DROP DATABASE IF EXISTS ${apotiDb} WITH (FORCE)`)
      await a.end()
    },
  }
}

export function basic(login: string, password: string): string {
  return 'Basic ' + Buffer.from(`${login}:${password}`, 'utf8').toString('base64')
}

/** One HTTP exchange with the simulator over loopback, raw body kept as text. */
export async function call(base: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; headers: Headers; body: string }> {
  const response = await fetch(base + path, { method: init.method ?? 'GET', headers: init.headers, body: init.body })
  return { status: response.status, headers: response.headers, body: await response.text() }
}
