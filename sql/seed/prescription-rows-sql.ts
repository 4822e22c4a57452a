// The generation statements for a prescription's satellite rows (_daten, _status, _statusinfo),
// written once for all three types. Each covers the rows g = @lo..@hi of a type with @count rows.
import {
  DELIVERY_OF_ROW, deliveryDate, hashOf, OPEN_STATUSES, pharmacyIk, pharmacyOf, pick, RARE_CLOSED_STATUSES, STATUS_VALUES,
} from './generated-values.ts'
import { namedStatement, type NamedStatement } from './named-parameters.ts'
import { EMUSTER16, EREZEPT, PREZEPT, type PrescriptionType, type PrescriptionTypeKey } from './prescription-types.ts'
import { prescriptionXml } from './xml-documents.ts'

/**
 * The newest ids of a type form its "recent" region: 4 % of the rows, at least this many, so the
 * edge rows (which sit there) are always inside it. Most new prescriptions live here (README).
 */
export const RECENT_REGION_MIN = 40

/**
 * What a row is, per the README's picture: 'new' (not yet fetched: 60 % of the recent region and
 * 0.3 % of the older rows), 'billed' (old, daten still false but status ABGERECHNET: 0.5 % of the
 * older rows, not new by docs/legacy-contract.md §4) or 'old' (fetched and mostly billed).
 */
function rowKind(type: PrescriptionType): string {
  const h = hashOf(type.salt + 1)
  return `(CASE WHEN g > @count - greatest(ceil(@count * 0.04)::int8, ${RECENT_REGION_MIN})
      THEN CASE WHEN ${h} % 1000 < 600 THEN 'new' ELSE 'old' END
    WHEN ${h} % 1000 < 3 THEN 'new' WHEN ${h} % 1000 < 8 THEN 'billed' ELSE 'old' END)`
}

function rowsOfChunk(type: PrescriptionType): string {
  return `FROM generate_series(@lo, @hi) AS g CROSS JOIN LATERAL (SELECT ${rowKind(type)} AS kind) AS c`
}

const satellite = (type: PrescriptionType, suffix: string) => ({
  table: `${type.table}_${suffix}`,
  id: `${type.idColumn}_${suffix}`,
})

function datenInsert(type: PrescriptionType, second: boolean): string {
  const { table, id } = satellite(type, 'daten')
  const h = hashOf(type.salt + 4)
  const xml = prescriptionXml(type.label, type.salt, `(${type.referenceSql})::text`, pharmacyIk(pharmacyOf(DELIVERY_OF_ROW)))
  // A few prescriptions have a second daten row (README); its id lies above every first row's.
  return `INSERT INTO ${table} (${id}, ${type.idColumn}, rezept_uuid, transfer_arz, xml_request)
    SELECT ${second ? '@count + g' : 'g'}, g, md5(@seed || ':${type.key}:' || g${second ? " || ':2'" : ''})::uuid::text,
      kind = 'old', ${xml}
    ${rowsOfChunk(type)}${second ? ` WHERE ${h} % 300 = 7` : ''}`
}

function statusInsert(type: PrescriptionType, second: boolean): string {
  const { table, id } = satellite(type, 'status')
  const h = hashOf(type.salt + 3)
  const status = second
    ? pick(['GELESEN', 'VOR_ABRECHNUNG', 'ABGERECHNET'], `${h} >> 12`)
    : `(CASE kind WHEN 'new' THEN ${pick(OPEN_STATUSES, `${h} >> 12`)} WHEN 'billed' THEN 'ABGERECHNET'
        ELSE CASE WHEN (${h} >> 12) % 100 < 70 THEN 'ABGERECHNET' WHEN (${h} >> 12) % 100 < 95 THEN 'GELESEN'
        ELSE ${pick(RARE_CLOSED_STATUSES, `${h} >> 20`)} END END)`
  // One row in ten reports a different billing status than its check status (docs/legacy-contract.md §4 maps both).
  const billing = `CASE WHEN ${h} % 10 = 0 THEN ${pick(STATUS_VALUES, `${h} >> 32`)} ELSE s.st END`
  const date = `CASE WHEN kind = 'new' AND (${h} >> 4) % 10 = 0 THEN NULL
    ELSE ${deliveryDate(DELIVERY_OF_ROW)} + ((${h} >> 8) % 10)::int${second ? ' + 3' : ''} END`
  // Mostly whole seconds; 5 % with microseconds; 3 % without a time (docs/legacy-contract.md §4: statusAbfrageZeit).
  const time = `CASE WHEN (${h} >> 40) % 100 < 3 THEN NULL
    ELSE make_time((7 + (${h} >> 44) % 12)::int, ((${h} >> 48) % 60)::int, ((${h} >> 54) % 60)::float8
      + CASE WHEN (${h} >> 40) % 100 < 8 THEN ((${h} >> 20) % 1000000)::float8 / 1000000 ELSE 0 END) END`
  const extraColumns = type.key === 'erezept' ? ', rezept_check_level' : ''
  const extraValues = type.key === 'erezept' ? `, ((${h} >> 56) % 5)::int2` : ''
  return `INSERT INTO ${table} (${id}, ${type.idColumn}, ${type.referenceColumn}, rezept_status, abrechen_status,
      rezept_check, rz_abfrage_id, status_abfrage_datum, status_abfrage_zeit${extraColumns})
    SELECT ${second ? '@count + g' : 'g'}, g, ${type.referenceSql}, s.st, ${billing}, kind <> 'new',
      'ABF' || lpad(((${h} >> 24) % 100000000)::text, 8, '0'), ${date}, ${time}${extraValues}
    ${rowsOfChunk(type)} CROSS JOIN LATERAL (SELECT ${status} AS st) AS s
    WHERE ${h} % 50 <> 1${second ? ` AND ${h} % 200 = 3` : ''}`
}

function statusInfoInsert(type: PrescriptionType): string {
  const { table, id } = satellite(type, 'statusinfo')
  const h = hashOf(type.salt + 6)
  const extraColumns = type.key === 'erezept' ? ', check_level, check_status' : ''
  const extraValues = type.key === 'erezept' ? `, (10 * (1 + (${h} >> 8) % 4))::int2, ((${h} >> 12) % 3)::int2` : ''
  return `INSERT INTO ${table} (${id}, ${type.idColumn}, fcode, fstatus, ftcode, fkurztext, fkommentar, regel_nr,
      regel_treffer_code, posnr, fhauptfehler${extraColumns})
    SELECT (g - 1) * 2 + k, g, 'F' || lpad(((${h} >> 16) % 1000)::text, 3, '0'),
      ${pick(['FEHLER', 'VERBESSERBAR', 'HINWEIS', 'RUECKWEISUNG'], `${h} >> 20`)}, lpad(((${h} >> 24) % 100)::text, 3, '0'),
      ${pick(['Zuzahlung prüfen', 'Verordnungsdatum fehlt', 'PZN ungültig für Größe N3', 'Kassen-IK unbekannt', 'Betäubungsmittel: Menge > 30 Tage'], `${h} >> 28`)},
      CASE WHEN k = 1 THEN 'Bitte Rücksprache mit der Apotheke "' || g || '" & dem Arzt halten.' ELSE NULL END,
      'R' || ((${h} >> 36) % 100000)::text, 'T' || lpad(((${h} >> 44) % 1000000)::text, 6, '0'), k::int2, k = 1${extraValues}
    FROM generate_series(@lo, @hi) AS g CROSS JOIN LATERAL generate_series(1, (1 + (${h} >> 4) % 2)::int) AS k
    WHERE ${h} % 8 = 0`
}

export interface SatelliteStatements {
  readonly daten: NamedStatement
  readonly secondDaten: NamedStatement
  readonly status: NamedStatement
  readonly secondStatus: NamedStatement
  readonly statusInfo: NamedStatement
}

function statementsFor(type: PrescriptionType): SatelliteStatements {
  return Object.freeze({
    daten: namedStatement(datenInsert(type, false)),
    secondDaten: namedStatement(datenInsert(type, true)),
    status: namedStatement(statusInsert(type, false)),
    secondStatus: namedStatement(statusInsert(type, true)),
    statusInfo: namedStatement(statusInfoInsert(type)),
  })
}

/** Built once at module load; parameters: @seed, @lo, @hi, @count, @headers, @pharmacies. */
export const SATELLITE_STATEMENTS: Readonly<Record<PrescriptionTypeKey, SatelliteStatements>> = Object.freeze({
  emuster16: statementsFor(EMUSTER16),
  prezept: statementsFor(PREZEPT),
  erezept: statementsFor(EREZEPT),
})
