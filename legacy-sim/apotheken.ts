// /api/Apotheken CRUD over er_apotheke (docs/legacy-contract.md §9; shapes from the legacy's public source, see docs/legacy-sim.md).
import type pg from 'pg'
import { sendEmpty, sendJson, sendText, sendValidationProblem } from './http-responses.ts'
import { conversionError, isObject, property, readJsonBody } from './json-request-body.ts'
import { jsonBigintText, jsonNullableString, jsonString } from './json-text.ts'
import { bindPaging } from './query-binding.ts'
import type { RouteRequest } from './request-context.ts'
import { serverTimeOfDay, serverToday } from './server-date.ts'

const FAILURE = 'Internal server error'

// Request fields in DTO order: JSON name, column, kind. apothekeName and apoIkNr are the non-nullable ones.
const WRITABLE: ReadonlyArray<readonly [string, string, 'string' | 'int' | 'bigint' | 'bool']> = [
  ['apothekeName', 'apotheke_name', 'string'], ['apothekeNameZusatz', 'apotheke_name_zusatz', 'string'],
  ['apoIkNr', 'apo_ik_nr', 'bigint'], ['inhaberVorname', 'inhaber_vorname', 'string'], ['inhaberNachname', 'inhaber_nachname', 'string'],
  ['apoIntNr', 'apo_int_nr', 'int'], ['plz', 'plz', 'int'], ['ort', 'ort', 'string'], ['strasse', 'strasse', 'string'],
  ['email', 'email', 'string'], ['telefon', 'telefon', 'string'], ['mobil', 'mobil', 'string'], ['fax', 'fax', 'string'],
  ['bemerkung', 'bemerkung', 'string'], ['bundesland', 'bundesland', 'string'], ['mandantType', 'mandant_type', 'string'],
  ['idLeType', 'id_le_type', 'int'], ['idHauptapotheke', 'id_hauptapotheke', 'bigint'], ['idHtAnrede', 'id_ht_anrede', 'int'],
  ['filialapotheke', 'filialapotheke', 'int'], ['gesperrt', 'gesperrt', 'bool'], ['secLogin', 'sec_login', 'int'],
  ['secLoginWerte', 'sec_login_werte', 'string'], ['secLoginNurApoUser', 'sec_login_nur_apo_user', 'bool'],
]

const SELECT_COLUMNS = `id_apotheke, apotheke_name, apotheke_name_zusatz, apo_ik_nr, inhaber_vorname, inhaber_nachname, apo_int_nr, plz, ort,
  strasse, email, telefon, mobil, fax, bemerkung, bundesland, mandant_type, id_le_type, id_hauptapotheke, id_ht_anrede, filialapotheke,
  gesperrt, sec_login, sec_login_werte, sec_login_nur_apo_user, aen_id_sec_user, aen_datum, aen_zeit`

type ApothekeRow = Record<string, string | number | boolean | null>

function num(v: unknown): string {
  return v === null || v === undefined ? 'null' : String(v)
}

function trimTime(time: string): string {
  return time.includes('.') ? time.replace(/0+$/, '').replace(/\.$/, '') : time
}

/** ApothekeDto: DateOnly as "YYYY-MM-DD", TimeOnly as "HH:mm:ss[.fffffff]" (System.Text.Json's forms). */
function apothekeJson(r: ApothekeRow): string {
  return '{"idApotheke":' + r.id_apotheke + ',"apothekeName":' + jsonString(r.apotheke_name as string) +
    ',"apothekeNameZusatz":' + jsonNullableString(r.apotheke_name_zusatz as string | null) + ',"apoIkNr":' + jsonBigintText(r.apo_ik_nr as string) +
    ',"inhaberVorname":' + jsonNullableString(r.inhaber_vorname as string | null) + ',"inhaberNachname":' + jsonNullableString(r.inhaber_nachname as string | null) +
    ',"apoIntNr":' + num(r.apo_int_nr) + ',"plz":' + num(r.plz) + ',"ort":' + jsonNullableString(r.ort as string | null) +
    ',"strasse":' + jsonNullableString(r.strasse as string | null) + ',"email":' + jsonNullableString(r.email as string | null) +
    ',"telefon":' + jsonNullableString(r.telefon as string | null) + ',"mobil":' + jsonNullableString(r.mobil as string | null) +
    ',"fax":' + jsonNullableString(r.fax as string | null) + ',"bemerkung":' + jsonNullableString(r.bemerkung as string | null) +
    ',"bundesland":' + jsonNullableString(r.bundesland as string | null) + ',"mandantType":' + jsonNullableString(r.mandant_type as string | null) +
    ',"idLeType":' + num(r.id_le_type) + ',"idHauptapotheke":' + jsonBigintText(r.id_hauptapotheke as string | null) +
    ',"idHtAnrede":' + num(r.id_ht_anrede) + ',"filialapotheke":' + num(r.filialapotheke) + ',"gesperrt":' + num(r.gesperrt) +
    ',"secLogin":' + num(r.sec_login) + ',"secLoginWerte":' + jsonNullableString(r.sec_login_werte as string | null) +
    ',"secLoginNurApoUser":' + num(r.sec_login_nur_apo_user) + ',"aenIdSecUser":' + num(r.aen_id_sec_user) +
    ',"aenDatum":' + (r.aen_datum === null ? 'null' : '"' + r.aen_datum + '"') +
    ',"aenZeit":' + (r.aen_zeit === null ? 'null' : '"' + trimTime(r.aen_zeit as string) + '"') + '}'
}

// EF's ToLower().Contains() over the searchable columns, the IK number as text.
const SEARCH_WHERE = `strpos(lower(apotheke_name), $1) > 0 OR strpos(lower(apotheke_name_zusatz), $1) > 0
  OR strpos(lower(inhaber_vorname), $1) > 0 OR strpos(lower(inhaber_nachname), $1) > 0
  OR strpos(lower(ort), $1) > 0 OR strpos(apo_ik_nr::text, $1) > 0`

export async function answerApothekenList(request: RouteRequest): Promise<void> {
  const { req, res, query, db } = request
  const paging = bindPaging(query)
  if (!paging.ok) return sendValidationProblem(res, paging.errors)
  const search = query.get('search')
  const searching = search !== undefined && search.trim() !== ''
  const offset = Math.imul((paging.page - 1) | 0, paging.size)
  try {
    const rows = searching
      ? await db.query<ApothekeRow>(`SELECT ${SELECT_COLUMNS} FROM er_apotheke WHERE ${SEARCH_WHERE} ORDER BY apotheke_name OFFSET $2 LIMIT $3`, [search.toLowerCase(), offset, paging.size])
      : await db.query<ApothekeRow>(`SELECT ${SELECT_COLUMNS} FROM er_apotheke ORDER BY apotheke_name OFFSET $1 LIMIT $2`, [offset, paging.size])
    const count = searching
      ? await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM er_apotheke WHERE ${SEARCH_WHERE}`, [search.toLowerCase()])
      : await db.query<{ n: number }>('SELECT count(*)::int AS n FROM er_apotheke')
    const totalCount = count.rows[0]!.n
    sendJson(res, 200, '{"apotheken":[' + rows.rows.map(apothekeJson).join(',') + '],"totalCount":' + totalCount + ',"page":' + paging.page +
      ',"pageSize":' + paging.size + ',"hasNextPage":' + (Math.imul(paging.page, paging.size) < totalCount) + '}')
  } catch {
    sendText(req, res, 500, FAILURE)
  }
}

async function byId(db: pg.Pool, id: number): Promise<ApothekeRow | undefined> {
  return (await db.query<ApothekeRow>(`SELECT ${SELECT_COLUMNS} FROM er_apotheke WHERE id_apotheke = $1 LIMIT 1`, [id])).rows[0]
}

export async function answerApothekeById(request: RouteRequest): Promise<void> {
  const { req, res } = request
  const id = Number(request.pathParameters[0])
  try {
    const row = await byId(request.db, id)
    if (row === undefined) return sendText(req, res, 404, `Apotheke with ID ${id} not found`)
    sendJson(res, 200, apothekeJson(row))
  } catch {
    sendText(req, res, 500, FAILURE)
  }
}

export async function answerApothekeByIk(request: RouteRequest): Promise<void> {
  const { req, res } = request
  const ik = BigInt(request.pathParameters[0]!).toString()
  try {
    const row = (await request.db.query<ApothekeRow>(`SELECT ${SELECT_COLUMNS} FROM er_apotheke WHERE apo_ik_nr = $1 LIMIT 1`, [ik])).rows[0]
    if (row === undefined) return sendText(req, res, 404, `Apotheke with IK-Nr ${ik} not found`)
    sendJson(res, 200, apothekeJson(row))
  } catch {
    sendText(req, res, 500, FAILURE)
  }
}

/** Create/Update request bound to column values, or MVC's validation errors. */
function bindApotheke(body: unknown): { values: Map<string, unknown> } | { errors: Array<[string, string]> } {
  if (!isObject(body)) return { errors: [conversionError('$', 'ArzTi3Server.DTOs.CreateApothekeRequest'), ['request', 'The request field is required.']] }
  const values = new Map<string, unknown>()
  const errors: Array<[string, string]> = []
  for (const [name, column, kind] of WRITABLE) {
    const v = property(body, name) ?? null
    const ok = v === null ||
      (kind === 'string' && typeof v === 'string') || (kind === 'bool' && typeof v === 'boolean') ||
      ((kind === 'int' || kind === 'bigint') && typeof v === 'number' && Number.isInteger(v))
    if (!ok) errors.push(conversionError(`$.${name}`, kind === 'string' ? 'System.String' : kind === 'bool' ? 'System.Nullable`1[System.Boolean]' : 'System.Int64'))
    values.set(column, v)
  }
  const name = values.get('apotheke_name')
  if (typeof name !== 'string' || name === '') errors.push(['ApothekeName', 'The ApothekeName field is required.'])
  if (values.get('apo_ik_nr') === null) values.set('apo_ik_nr', 0) // a missing long is 0
  return errors.length > 0 ? { errors } : { values }
}

export async function answerApothekeCreate(request: RouteRequest): Promise<void> {
  const { req, res, db } = request
  const body = await readJsonBody(req, res)
  if (body === undefined) return
  const bound = bindApotheke(body)
  if ('errors' in bound) return sendValidationProblem(res, bound.errors)
  const v = bound.values
  try {
    const ik = String(v.get('apo_ik_nr'))
    if ((await db.query('SELECT 1 FROM er_apotheke WHERE apo_ik_nr = $1 LIMIT 1', [ik])).rowCount! > 0) {
      return sendText(req, res, 409, `Apotheke with IK-Nr ${ik} already exists`)
    }
    const columns = [...v.keys(), 'aen_datum', 'aen_zeit']
    const params = [...v.values(), serverToday(request.settings.timeZone), serverTimeOfDay(request.settings.timeZone)]
    const inserted = await db.query<ApothekeRow>(`INSERT INTO er_apotheke (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING ${SELECT_COLUMNS}`, params)
    const row = inserted.rows[0]!
    res.setHeader('Location', `http://${req.headers.host ?? 'localhost'}/api/Apotheken/${row.id_apotheke}`)
    sendJson(res, 201, apothekeJson(row))
  } catch {
    sendText(req, res, 500, FAILURE)
  }
}

export async function answerApothekeUpdate(request: RouteRequest): Promise<void> {
  const { req, res, db } = request
  const id = Number(request.pathParameters[0])
  const body = await readJsonBody(req, res)
  if (body === undefined) return
  const bound = bindApotheke(body)
  if ('errors' in bound) return sendValidationProblem(res, bound.errors)
  const v = bound.values
  try {
    if ((await byId(db, id)) === undefined) return sendText(req, res, 404, `Apotheke with ID ${id} not found`)
    const ik = String(v.get('apo_ik_nr'))
    if ((await db.query('SELECT 1 FROM er_apotheke WHERE apo_ik_nr = $1 AND id_apotheke <> $2 LIMIT 1', [ik, id])).rowCount! > 0) {
      return sendText(req, res, 409, `Another apotheke with IK-Nr ${ik} already exists`)
    }
    const columns = [...v.keys(), 'aen_datum', 'aen_zeit']
    const params = [...v.values(), serverToday(request.settings.timeZone), serverTimeOfDay(request.settings.timeZone), id]
    const updated = await db.query<ApothekeRow>(`UPDATE er_apotheke SET ${columns.map((c, i) => `${c} = $${i + 1}`).join(', ')} WHERE id_apotheke = $${columns.length + 1} RETURNING ${SELECT_COLUMNS}`, params)
    sendJson(res, 200, apothekeJson(updated.rows[0]!))
  } catch {
    sendText(req, res, 500, FAILURE)
  }
}

export async function answerApothekeDelete(request: RouteRequest): Promise<void> {
  const { req, res, db } = request
  const id = Number(request.pathParameters[0])
  try {
    if ((await byId(db, id)) === undefined) return sendText(req, res, 404, `Apotheke with ID ${id} not found`)
    await db.query('DELETE FROM er_apotheke WHERE id_apotheke = $1', [id])
    sendEmpty(res, 204)
  } catch {
    sendText(req, res, 500, FAILURE)
  }
}
