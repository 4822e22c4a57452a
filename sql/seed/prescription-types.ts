// The three prescription types of a tenant database: their tables, their share of the rows and the
// SQL of the type's own reference number, which the main row and its status row both carry.
import { hashOf } from './generated-values.ts'

export type PrescriptionTypeKey = 'emuster16' | 'prezept' | 'erezept'

export interface PrescriptionType {
  readonly key: PrescriptionTypeKey
  /** The type name on the wire (docs/legacy-contract.md §4). */
  readonly label: 'eMuster16' | 'P-Rezept' | 'E-Rezept'
  /** Keeps the types' pseudo-random streams apart. */
  readonly salt: number
  readonly table: string
  readonly idColumn: string
  readonly referenceColumn: 'muster16_id' | 'transaktions_nummer' | 'erezept_id'
  /** The reference value of row g (NULL for a few rows). */
  readonly referenceSql: string
}

// Big reference numbers: most below 2^53, one row in twenty above it, now and then the int8 maximum.
function bigReference(salt: number): string {
  const h = hashOf(salt + 5)
  return `(CASE WHEN ${h} % 100 < 3 THEN NULL
    WHEN ${h} % 100 < 7 THEN 9007199254740993 + (${h} >> 20) % 1000000000000
    WHEN ${h} % 100 = 7 THEN 9223372036854775807 - (${h} >> 20) % 1000000
    ELSE 100000000000000 + g * 7919 + (${h} >> 20) % 7919 END)`
}

// Shaped like 160.000.100.000.001.07 (22 characters); the row number makes it unique.
function erezeptId(salt: number): string {
  const h = hashOf(salt + 5)
  const part = (expr: string, width: number) => `lpad((${expr})::text, ${width}, '0')`
  return `(CASE WHEN ${h} % 100 < 3 THEN NULL ELSE '160.' || ${part('(g / 1000000) % 1000', 3)} || '.'
    || ${part('(g / 1000) % 1000', 3)} || '.' || ${part('g % 1000', 3)} || '.' || ${part(`(${h} >> 20) % 1000`, 3)}
    || '.' || ${part(`(${h} >> 30) % 100`, 2)} END)`
}

export const EMUSTER16: PrescriptionType = Object.freeze({
  key: 'emuster16', label: 'eMuster16', salt: 100, table: 'er_senderezepte_emuster16',
  idColumn: 'id_senderezepte_emuster16', referenceColumn: 'muster16_id', referenceSql: bigReference(100),
})
export const PREZEPT: PrescriptionType = Object.freeze({
  key: 'prezept', label: 'P-Rezept', salt: 200, table: 'er_senderezepte_prezept',
  idColumn: 'id_senderezepte_prezept', referenceColumn: 'transaktions_nummer', referenceSql: bigReference(200),
})
export const EREZEPT: PrescriptionType = Object.freeze({
  key: 'erezept', label: 'E-Rezept', salt: 300, table: 'er_senderezepte_erezept',
  idColumn: 'id_senderezepte_erezept', referenceColumn: 'erezept_id', referenceSql: erezeptId(300),
})

export const PRESCRIPTION_TYPES: readonly PrescriptionType[] = Object.freeze([EMUSTER16, PREZEPT, EREZEPT])

export type TypeCounts = Readonly<Record<PrescriptionTypeKey, number>>

/** README: about 60 % eMuster16, 25 % E-Rezept, 15 % P-Rezept; the counts add up to `rows` exactly. */
export function typeCounts(rows: number): TypeCounts {
  const emuster16 = Math.floor(rows * 0.6)
  const erezept = Math.floor(rows * 0.25)
  return Object.freeze({ emuster16, erezept, prezept: rows - emuster16 - erezept })
}

/** One delivery (header row) per 25 prescriptions. */
export function deliveryCount(rows: number): number {
  return Math.ceil(rows / 25)
}

/** 50 to 200 pharmacies in a non-empty tenant, none in an empty one. */
export function pharmacyCount(rows: number): number {
  return rows === 0 ? 0 : Math.min(200, Math.max(50, Math.round(rows / 5000)))
}
