// The legacy's own v1 `GET new` statement per type (test/fixtures/legacy-observed-sql/observed-sql.md),
// text for text: no ORDER BY, each daten column from its own correlated `LIMIT 1`. The order of the
// rows and the daten row each subquery picks are the plan's, so the fast path sends this very text,
// planned with the server's defaults, and reads it in the order PostgreSQL sends it (docs/legacy-contract.md §12.9).
import type { PrescriptionType } from './prescription-types.ts'

/** Columns of a row, in this order, as PostgreSQL text: Type, Id, RzLieferId, Muster16Id, RezeptUuid, XmlRequest, TransferArz, DatenId, TransaktionsNummer, ErezeptId. */
export const V1_COLUMN = Object.freeze({ id: 1, rzLieferId: 2, muster16Id: 3, rezeptUuid: 4, xmlRequest: 5, datenId: 7, transaktionsNummer: 8, erezeptId: 9 })

function v1NewSql(t: PrescriptionType): string {
  const firstDaten = (alias: string, column: string) => `(
        SELECT ${alias}.${column}
        FROM ${t.daten} AS ${alias}
        WHERE e.${t.mainId} = ${alias}.${t.mainId} AND ${alias}.transfer_arz = FALSE
        LIMIT 1)`
  const numberAs = (name: PrescriptionType['name'], label: string) => t.name === name ? `e.${t.numberColumn} AS "${label}"` : `NULL AS "${label}"`
  return `SELECT '${t.name}' AS "Type", e.${t.mainId} AS "Id", e.rz_liefer_id AS "RzLieferId", ${numberAs('eMuster16', 'Muster16Id')}, ${firstDaten('e2', 'rezept_uuid')} AS "RezeptUuid", ${firstDaten('e3', 'xml_request')} AS "XmlRequest", COALESCE(${firstDaten('e4', 'transfer_arz')}, FALSE) AS "TransferArz", ${firstDaten('e5', t.datenId)} AS "DatenId", ${numberAs('P-Rezept', 'TransaktionsNummer')}, ${numberAs('E-Rezept', 'ErezeptId')}
    FROM ${t.main} AS e
    WHERE EXISTS (
        SELECT 1
        FROM ${t.daten} AS e0
        WHERE e.${t.mainId} = e0.${t.mainId} AND e0.transfer_arz = FALSE) AND NOT EXISTS (
        SELECT 1
        FROM ${t.status} AS e1
        WHERE e.${t.mainId} = e1.${t.mainId} AND e1.rezept_status = 'ABGERECHNET')`
}

export interface V1NewStatements {
  /** Every new row of the type, in the plan's order; no parameters. */
  readonly rowsSql: string
  /** The same statement under EXPLAIN (FORMAT JSON, COSTS OFF): is the plan's order reproducible? */
  readonly explainSql: string
}

export function v1NewStatements(t: PrescriptionType): V1NewStatements {
  const rowsSql = v1NewSql(t)
  return Object.freeze({ rowsSql, explainSql: `EXPLAIN (FORMAT JSON, COSTS OFF) ${rowsSql}` })
}
