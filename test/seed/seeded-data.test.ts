import { readFile } from 'node:fs/promises'
import bcrypt from 'bcryptjs'
import pg from 'pg'
import t from 'tap'
import {
  EDGE_CASES, edgeRowId, PRESCRIPTION_TYPES, SEED_USERS, seedDatabaseNames, typeCounts, type PrescriptionType, type SeedReport,
} from '../../sql/seed/seed.ts'
import { pgAdminUrl } from '../../dev/services.ts'
import { dropSeeded, openDatabase, seedSmall } from './seeded-databases.ts'

const PREFIX = 't_seed_data_'
const ROWS = 3000
const KLEIN_ROWS = 400
const names = seedDatabaseNames(PREFIX)

let report: SeedReport
const db: Record<'arzsw' | 'gross' | 'klein' | 'leer', pg.Client> = {} as never

t.before(async () => {
  report = await seedSmall(PREFIX, ROWS, KLEIN_ROWS, 1)
  db.arzsw = await openDatabase(names.arzsw)
  db.gross = await openDatabase(names.tenants.gross)
  db.klein = await openDatabase(names.tenants.klein)
  db.leer = await openDatabase(names.tenants.leer)
})
t.teardown(async () => {
  await Promise.all(Object.values(db).map((client) => client.end()))
  await dropSeeded(PREFIX)
})

async function value<T>(client: pg.Client, sql: string, params: unknown[] = []): Promise<T> {
  const result = await client.query(sql, params)
  return Object.values(result.rows[0] as Record<string, T>)[0]!
}

const NEW_FILTER = (type: PrescriptionType) => `EXISTS (SELECT 1 FROM ${type.table}_daten d WHERE d.${type.idColumn} = m.${type.idColumn} AND d.transfer_arz = false)
  AND NOT EXISTS (SELECT 1 FROM ${type.table}_status s WHERE s.${type.idColumn} = m.${type.idColumn} AND s.rezept_status = 'ABGERECHNET')`

t.test('each tenant holds its number of prescriptions, split 60 / 15 / 25 % by type, and leer holds none', async (t) => {
  for (const [tenant, rows] of [['gross', ROWS], ['klein', KLEIN_ROWS], ['leer', 0]] as const) {
    const expected = typeCounts(rows)
    for (const type of PRESCRIPTION_TYPES) {
      t.equal(await value<number>(db[tenant], `SELECT count(*)::int FROM ${type.table}`), expected[type.key], `${tenant} ${type.label}`)
    }
  }
  t.same(typeCounts(ROWS), { emuster16: 1800, prezept: 450, erezept: 750 })
  t.same(report.tenants.map((r) => r.tenant), ['gross', 'klein', 'leer'])
  t.equal(await value<number>(db.leer, 'SELECT count(*)::int FROM er_apotheke'), 0, 'leer has no pharmacies either')
})

t.test('a few percent of the prescriptions are new, nearly all of them among the newest ids', async (t) => {
  let newTotal = 0
  for (const type of PRESCRIPTION_TYPES) {
    const count = typeCounts(ROWS)[type.key]
    const ids = (await db.gross.query<{ id: number }>(`SELECT ${type.idColumn} AS id FROM ${type.table} m WHERE ${NEW_FILTER(type)}`)).rows.map((r) => r.id)
    t.equal(ids.length, report.tenants[0]!.newPrescriptions[type.key], `${type.label}: the report counts new rows as docs/legacy-contract.md §4 does`)
    const newest = ids.filter((id) => id > count * 0.9).length
    t.ok(newest / ids.length >= 0.8, `${type.label}: ${newest} of ${ids.length} new rows lie in the newest tenth of ids`)
    newTotal += ids.length
  }
  t.ok(newTotal / ROWS > 0.01 && newTotal / ROWS < 0.08, `share new ${(100 * newTotal / ROWS).toFixed(1)} %`)
  const billedUnread = await value<number>(db.gross, `SELECT count(*)::int FROM er_senderezepte_emuster16_daten d
    JOIN er_senderezepte_emuster16_status s USING (id_senderezepte_emuster16) WHERE d.transfer_arz = false AND s.rezept_status = 'ABGERECHNET'`)
  t.ok(billedUnread > 1, 'some rows are billed although their daten row is still false (not new)')
})

t.test('every edge row of docs/legacy-contract.md §4 exists in every type of every non-empty tenant', async (t) => {
  for (const tenant of ['gross', 'klein'] as const) {
    const client = db[tenant]
    const counts = typeCounts(tenant === 'gross' ? ROWS : KLEIN_ROWS)
    for (const type of PRESCRIPTION_TYPES) {
      for (const [index, edge] of EDGE_CASES.entries()) {
        const id = edgeRowId(counts[type.key], index)
        const where = `${tenant} ${type.label} ${id} (${edge.name})`
        const daten = (await client.query<{ id: number; transfer: boolean | null }>(
          `SELECT ${type.idColumn}_daten AS id, transfer_arz AS transfer FROM ${type.table}_daten WHERE ${type.idColumn} = $1 ORDER BY 1`, [id])).rows
        t.same(daten.map((d) => d.transfer), edge.daten, `${where}: daten rows`)
        const status = (await client.query<{ rezept: string; abrechen: string; datum: string | null; zeit: string | null }>(
          `SELECT rezept_status AS rezept, abrechen_status AS abrechen, status_abfrage_datum::text AS datum, status_abfrage_zeit::text AS zeit
           FROM ${type.table}_status WHERE ${type.idColumn} = $1 ORDER BY ${type.idColumn}_status`, [id])).rows
        t.same(status.map((s) => s.rezept), edge.status.map((s) => s.rezeptStatus), `${where}: status rows in id order`)
        status.forEach((row, i) => {
          const spec = edge.status[i]!
          t.equal(row.abrechen, spec.abrechenStatus ?? spec.rezeptStatus, `${where}: abrechen_status`)
          t.equal(row.datum === null, spec.date === false, `${where}: status_abfrage_datum set or NULL`)
          t.equal(row.zeit, spec.time === undefined ? '10:15:00' : spec.time, `${where}: status_abfrage_zeit`)
        })
        const isNew = await value<boolean>(client, `SELECT ${NEW_FILTER(type)} FROM ${type.table} m WHERE ${type.idColumn} = $1`, [id])
        t.equal(isNew, edge.isNew, `${where}: new per docs/legacy-contract.md §4`)
        if (edge.datenIsSecond) t.ok(daten[1]!.id > daten[0]!.id && daten[1]!.transfer === false, `${where}: the false daten row is not the lowest id`)
      }
    }
  }
})

t.test('edge reference numbers reach past 2^53 up to the int8 maximum, or are NULL', async (t) => {
  for (const type of PRESCRIPTION_TYPES) {
    const count = typeCounts(ROWS)[type.key]
    const refOf = async (name: string) => value<string | null>(db.gross,
      `SELECT ${type.referenceColumn}::text FROM ${type.table} WHERE ${type.idColumn} = $1`,
      [edgeRowId(count, EDGE_CASES.findIndex((e) => e.name === name))])
    t.equal(await refOf('reference number NULL'), null, `${type.label}: NULL`)
    if (type.key === 'erezept') {
      t.equal(await refOf('reference number 2^53 + 1'), '160.000.100.000.001.07', 'erezept_id shaped like the README example')
    } else {
      t.equal(await refOf('reference number 2^53 + 1'), '9007199254740993', `${type.label}: 2^53 + 1`)
      t.equal(await refOf('reference number at the int8 maximum'), '9223372036854775807', `${type.label}: int8 max`)
      const statusRef = await value<string>(db.gross, `SELECT ${type.referenceColumn}::text FROM ${type.table}_status WHERE ${type.idColumn} = $1`,
        [edgeRowId(count, EDGE_CASES.findIndex((e) => e.name === 'reference number 2^53 + 1'))])
      t.equal(statusRef, '9007199254740993', `${type.label}: the status row carries the same number`)
    }
  }
  const bulkBeyond = await value<number>(db.gross, 'SELECT count(*)::int FROM er_senderezepte_emuster16 WHERE muster16_id > 9007199254740992')
  t.ok(bulkBeyond > 20, `ordinary rows beyond 2^53 too (${bulkBeyond})`)
  const badErezeptIds = await value<number>(db.gross,
    String.raw`SELECT count(*)::int FROM er_senderezepte_erezept WHERE erezept_id !~ '^\d{3}\.\d{3}\.\d{3}\.\d{3}\.\d{3}\.\d{2}$'`)
  t.equal(badErezeptIds, 0, 'every erezept_id looks like 160.000.100.000.001.07')
})

t.test('the XML is 1 to 8 KB of German text with every character the JSON writer escapes', async (t) => {
  const sizes = await db.gross.query<{ min: number; max: number }>(`SELECT min(octet_length(xml_request)) AS min, max(octet_length(xml_request)) AS max
    FROM (SELECT xml_request FROM er_senderezepte_emuster16_daten UNION ALL SELECT xml_request FROM er_senderezepte_prezept_daten
          UNION ALL SELECT xml_request FROM er_senderezepte_erezept_daten) x`)
  t.ok(sizes.rows[0]!.min >= 1000 && sizes.rows[0]!.max <= 8000, `sizes ${sizes.rows[0]!.min} to ${sizes.rows[0]!.max} bytes`)
  const edgeIndex = EDGE_CASES.findIndex((e) => e.allCharacters)
  for (const type of PRESCRIPTION_TYPES) {
    const id = edgeRowId(typeCounts(ROWS)[type.key], edgeIndex)
    const xml = await value<string>(db.gross, `SELECT xml_request FROM ${type.table}_daten WHERE ${type.idColumn}_daten = $1`, [id])
    for (const character of ['"', "'", '<', '>', '&amp;', '+', '`', 'ä', 'ß', '💊', '\t', '\\', '\u007f']) {
      t.ok(xml.includes(character), `${type.label} edge XML holds ${JSON.stringify(character)}`)
    }
    const liefer = await value<string>(db.gross, `SELECT rz_liefer_id FROM ${type.table} WHERE ${type.idColumn} = $1`, [id])
    t.equal([...liefer].length, 23, `${type.label}: an rz_liefer_id of the column's full 23 characters`)
  }
  const withEmoji = await value<number>(db.gross, "SELECT count(*)::int FROM er_senderezepte_emuster16_daten WHERE xml_request LIKE '%💊%'")
  const withTab = await value<number>(db.gross, "SELECT count(*)::int FROM er_senderezepte_emuster16_daten WHERE xml_request LIKE E'%\\t%'")
  t.ok(withEmoji > 50 && withTab > 50, `ordinary rows carry emoji (${withEmoji}) and TABs (${withTab}) too`)
})

t.test('deliveries, articles, batches, status infos and 50 to 200 pharmacies fill the other tables', async (t) => {
  for (const table of ['er_senderezepte_header', 'er_senderezepte_header_daten', 'er_senderezepte_emuster16_artikel',
    'er_senderezepte_prezept_pcharge', 'er_senderezepte_emuster16_statusinfo', 'er_senderezepte_prezept_statusinfo',
    'er_senderezepte_erezept_statusinfo']) {
    t.ok(await value<number>(db.gross, `SELECT count(*)::int FROM ${table}`) > 10, `${table} has rows`)
  }
  const pharmacies = await value<number>(db.gross, 'SELECT count(*)::int FROM er_apotheke')
  t.ok(pharmacies >= 50 && pharmacies <= 200, `${pharmacies} pharmacies`)
  t.ok(await value<number>(db.gross, "SELECT count(*)::int FROM er_apotheke WHERE apotheke_name ~ '[äöüß]'") > 0, 'pharmacy names with umlauts')
  t.ok(await value<number>(db.gross, 'SELECT count(*)::int FROM er_apotheke WHERE email IS NULL OR apotheke_name_zusatz IS NULL') > 0, 'and NULLs')
  const orphans = await value<number>(db.gross, `SELECT count(*)::int FROM er_senderezepte_emuster16 m
    LEFT JOIN er_senderezepte_header h USING (id_senderezepte_header) WHERE h.id_senderezepte_header IS NULL OR h.rz_liefer_id IS NULL`)
  t.equal(orphans, 0, 'every prescription points at an existing delivery')
})

t.test('sequences continue after the seeded ids, so the legacy can insert rows', async (t) => {
  const inserted = await value<number>(db.gross, `INSERT INTO er_senderezepte_emuster16_status (id_senderezepte_emuster16, rezept_status)
    VALUES (1, 'GELESEN') RETURNING id_senderezepte_emuster16_status`)
  const max = await value<number>(db.gross, 'SELECT max(id_senderezepte_emuster16_status) FROM er_senderezepte_emuster16_status WHERE id_senderezepte_emuster16_status <> $1', [inserted])
  t.ok(inserted > max, `new status id ${inserted} above ${max}`)
  await db.gross.query('DELETE FROM er_senderezepte_emuster16_status WHERE id_senderezepte_emuster16_status = $1', [inserted])
})

t.test('the schemas are exactly the legacy ones: same tables, columns and indexes, nothing more', async (t) => {
  const shape = async (client: pg.Client) => (await client.query<{ line: string }>(`
    SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || coalesce('(' || character_maximum_length || ')', '') AS line
      FROM information_schema.columns WHERE table_schema = 'public'
    UNION ALL SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
    UNION ALL SELECT 'constraint ' || conrelid::regclass || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = 'public'::regnamespace
    UNION ALL SELECT 'function ' || proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace
    ORDER BY 1`)).rows.map((r) => r.line)
  const admin = new pg.Client({ connectionString: pgAdminUrl() })
  await admin.connect()
  try {
    for (const [file, seeded] of [['apoti', db.gross], ['arzsw', db.arzsw]] as const) {
      const reference = `${PREFIX}ref_${file}`
      await admin.query(`DROP DATABASE IF EXISTS ${reference} WITH (FORCE)`)
      await admin.query(`CREATE DATABASE ${reference}`)
      const ref = await openDatabase(reference)
      try {
        await ref.query(await readFile(new URL(`../../sql/legacy/${file}.sql`, import.meta.url), 'utf8'))
        t.same(await shape(seeded), await shape(ref), `${file}: seeded schema equals sql/legacy/${file}.sql`)
      } finally {
        await ref.end()
        await admin.query(`DROP DATABASE IF EXISTS ${reference} WITH (FORCE)`)
      }
    }
  } finally {
    await admin.end()
  }
})

t.test('the users log in as the issue says: BCrypt 10, plain text, BCrypt 12, each on its own tenant', async (t) => {
  const users = (await db.arzsw.query<{ login: string; plain: string; crypt: string | null; database: string; cs: string; code: string }>(
    `SELECT b.login_name AS login, b.login_passwort AS plain, b.login_passwort_crypt AS crypt, d.datenbank_name AS database,
            d.datenbank_connection_string AS cs, m.code_kenner AS code
     FROM arzsw_benutzer b JOIN arzsw_datenbank d USING (arzsw_datenbank_id) JOIN arzsw_mandant m ON m.arzsw_mandant_id = b.arzsw_mandant_id
     ORDER BY b.arzsw_benutzer_id`)).rows
  t.equal(users.length, SEED_USERS.length)
  for (const user of SEED_USERS) {
    const row = users.find((u) => u.login === user.login)!
    t.equal(row.code, user.tenant, `${user.login}: tenant ${user.tenant}`)
    t.equal(row.database, names.tenants[user.tenant], `${user.login}: its tenant database`)
    if (user.bcryptCost === null) {
      t.equal(row.plain, user.password, `${user.login}: plain text stored`)
      t.notOk(row.crypt, `${user.login}: no hash`)
    } else {
      t.not(row.plain, user.password, `${user.login}: the plain column does not hold the real password`)
      t.ok(await bcrypt.compare(user.password, row.crypt!), `${user.login}: BCrypt verifies the password`)
      t.notOk(await bcrypt.compare('wrong', row.crypt!), `${user.login}: and rejects another`)
      t.equal(bcrypt.getRounds(row.crypt!), user.bcryptCost, `${user.login}: cost ${user.bcryptCost}`)
    }
  }
})

// A deliberately small reader of the three styles seed writes, independent of the proxy's parser.
function readConnectionString(text: string): Map<string, string> {
  const fields = new Map<string, string>()
  for (const match of text.matchAll(/\s*([^=;]+?)\s*=\s*("(?:[^"]|"")*"|[^;]*)\s*(?:;|$)/g)) {
    const raw = match[2]!
    fields.set(match[1]!.toLowerCase(), raw.startsWith('"') ? raw.slice(1, -1).replaceAll('""', '"') : raw)
  }
  return fields
}

t.test('the connection strings point at the right databases, in three different Npgsql styles', async (t) => {
  const admin = new URL(pgAdminUrl())
  const rows = (await db.arzsw.query<{ name: string; cs: string }>(
    'SELECT datenbank_name AS name, datenbank_connection_string AS cs FROM arzsw_datenbank ORDER BY arzsw_datenbank_id')).rows
  const styles = new Set<string>()
  for (const row of rows) {
    const fields = readConnectionString(row.cs)
    t.equal(fields.get('database'), row.name, `${row.name}: Database`)
    t.equal(fields.get('host') ?? fields.get('server'), admin.hostname, `${row.name}: host`)
    t.equal(fields.get('port'), admin.port || '5432', `${row.name}: port`)
    t.equal(fields.get('username') ?? fields.get('user id'), decodeURIComponent(admin.username) || 'postgres', `${row.name}: user`)
    t.equal(fields.get('password') ?? fields.get('pwd') ?? '', decodeURIComponent(admin.password), `${row.name}: password`)
    styles.add([...fields.keys()].join(','))
  }
  t.equal(styles.size, 3, 'each tenant uses its own key spelling')
  t.match(rows[1]!.cs, /^Server=.*User ID=.*Maximum Pool Size=20$/, 'klein uses the synonyms and a pool option')
  t.match(rows[2]!.cs, /^host=.*database="[^"]+"/, 'leer uses lower-case keys and a quoted value')
})
