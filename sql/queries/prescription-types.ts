// The three prescription types of the v2 list, in the legacy's order, with the tables and columns each is read from (apoti.sql).

export interface PrescriptionType {
  /** As the v2 API writes it (docs/legacy-contract.md §4). */
  readonly name: 'eMuster16' | 'P-Rezept' | 'E-Rezept'
  /** Lower-cased, for the case-insensitive `type` filter. */
  readonly foldedName: string
  /** Short stem of statement names and index names. */
  readonly key: 'em16' | 'prez' | 'erez'
  readonly main: string
  readonly mainId: string
  readonly daten: string
  readonly datenId: string
  readonly status: string
  readonly statusId: string
  /** Column behind muster16Id / transaktionsNummer / erezeptId. */
  readonly numberColumn: string
  /** Whether the item carries the main table's rz_liefer_id (eMuster16 only, docs/legacy-contract.md §4). */
  readonly withLieferId: boolean
}

function prescriptionType(name: PrescriptionType['name'], key: PrescriptionType['key'], stem: string, numberColumn: string): PrescriptionType {
  return Object.freeze({
    name, key, numberColumn, foldedName: name.toLowerCase(), withLieferId: name === 'eMuster16',
    main: `er_senderezepte_${stem}`, mainId: `id_senderezepte_${stem}`,
    daten: `er_senderezepte_${stem}_daten`, datenId: `id_senderezepte_${stem}_daten`,
    status: `er_senderezepte_${stem}_status`, statusId: `id_senderezepte_${stem}_status`,
  })
}

export const PRESCRIPTION_TYPES: readonly PrescriptionType[] = Object.freeze([
  prescriptionType('eMuster16', 'em16', 'emuster16', 'muster16_id'),
  prescriptionType('P-Rezept', 'prez', 'prezept', 'transaktions_nummer'),
  prescriptionType('E-Rezept', 'erez', 'erezept', 'erezept_id'),
])
