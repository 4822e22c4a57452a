// The order the real legacy's v1 `GET new` would list items in on a given database: its own statement
// (observed-sql.md, no ORDER BY) per type, concatenated in type order, paged in memory (docs/legacy-contract.md §8).
import pg from 'pg'

interface V1Type { name: 'eMuster16' | 'P-Rezept' | 'E-Rezept'; v1Name: string; stem: string }

const V1_TYPES: readonly V1Type[] = [
  { name: 'eMuster16', v1Name: 'emuster16', stem: 'emuster16' },
  { name: 'P-Rezept', v1Name: 'prezept', stem: 'prezept' },
  { name: 'E-Rezept', v1Name: 'erezept', stem: 'erezept' },
]

/** The statement as the legacy sent it (observed-sql.md), for one type; only the table names change. */
function legacyStatement(t: V1Type): string {
  const main = `er_senderezepte_${t.stem}`
  const id = `id_senderezepte_${t.stem}`
  const daten = `${main}_daten`
  const firstDaten = (alias: string, column: string) => `(
        SELECT ${alias}.${column}
        FROM ${daten} AS ${alias}
        WHERE e.${id} = ${alias}.${id} AND ${alias}.transfer_arz = FALSE
        LIMIT 1)`
  const typeColumns = t.name === 'eMuster16'
    ? `e.rz_liefer_id AS "RzLieferId", e.muster16_id AS "Muster16Id"`
    : t.name === 'P-Rezept' ? `e.rz_liefer_id AS "RzLieferId", e.transaktions_nummer AS "TransaktionsNummer"` : `e.rz_liefer_id AS "RzLieferId", e.erezept_id AS "ErezeptId"`
  return `SELECT '${t.name}' AS "Type", e.${id} AS "Id", ${typeColumns}, ${firstDaten('e2', 'rezept_uuid')} AS "RezeptUuid", ${firstDaten('e3', 'xml_request')} AS "XmlRequest", COALESCE(${firstDaten('e4', 'transfer_arz')}, FALSE) AS "TransferArz", ${firstDaten('e5', `${id}_daten`)} AS "DatenId"
    FROM ${main} AS e
    WHERE EXISTS (
        SELECT 1
        FROM ${daten} AS e0
        WHERE e.${id} = e0.${id} AND e0.transfer_arz = FALSE) AND NOT EXISTS (
        SELECT 1
        FROM ${main}_status AS e1
        WHERE e.${id} = e1.${id} AND e1.rezept_status = 'ABGERECHNET')`
}

export interface V1Key { readonly type: string; readonly id: number; readonly datenId: number }

/** What v1 `GET new` binds from the query: rezeptType (case-insensitive), page, pageSize. */
export function v1Selection(rawPath: string): { types: readonly V1Type[]; page: number; pageSize: number } {
  const q = rawPath.indexOf('?')
  const params = new URLSearchParams(q < 0 ? '' : rawPath.slice(q + 1))
  const get = (name: string) => [...params].find(([k]) => k.toLowerCase() === name)?.[1]
  const rezeptType = get('rezepttype')
  const types = rezeptType === undefined || rezeptType.trim() === '' ? V1_TYPES : V1_TYPES.filter((t) => t.v1Name === rezeptType.toLowerCase())
  return { types, page: Number(get('page') ?? 1), pageSize: Number(get('pagesize') ?? 100) }
}

/**
 * The keys of the page the legacy would answer, read now from `databaseUrl` with PostgreSQL's
 * default planner settings (a fresh connection that sets nothing).
 */
export async function legacyV1Page(databaseUrl: string, rawPath: string): Promise<V1Key[]> {
  const { types, page, pageSize } = v1Selection(rawPath)
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  const all: V1Key[] = []
  try {
    for (const t of types) {
      const rows = (await client.query<{ Id: number; DatenId: number }>(legacyStatement(t))).rows
      for (const row of rows) all.push({ type: t.name, id: row.Id, datenId: row.DatenId })
    }
  } finally {
    await client.end()
  }
  // LINQ Skip/Take over the loaded list: a negative skip is none, a negative take yields nothing.
  const skip = Math.max(0, Math.imul((page - 1) | 0, pageSize))
  return all.slice(skip, skip + Math.max(0, pageSize))
}
