// The three prescription types and the tables and columns each lives in (apoti.sql), in the legacy's type order.

export interface PrescriptionTable {
  /** The type as the v2 API writes it (docs/legacy-contract.md §4). */
  name: 'eMuster16' | 'P-Rezept' | 'E-Rezept'
  /** The type as the v1 `rezeptType` filter spells it (docs/legacy-contract.md §8). */
  v1Name: 'eMuster16' | 'pRezept' | 'eRezept'
  main: string
  mainId: string
  daten: string
  datenId: string
  status: string
  statusId: string
  /** The main table's column behind muster16Id / transaktionsNummer / erezeptId. */
  numberColumn: string
}

function table(name: PrescriptionTable['name'], v1Name: PrescriptionTable['v1Name'], stem: string, numberColumn: string): PrescriptionTable {
  return {
    name, v1Name, numberColumn,
    main: `er_senderezepte_${stem}`, mainId: `id_senderezepte_${stem}`,
    daten: `er_senderezepte_${stem}_daten`, datenId: `id_senderezepte_${stem}_daten`,
    status: `er_senderezepte_${stem}_status`, statusId: `id_senderezepte_${stem}_status`,
  }
}

export const PRESCRIPTION_TABLES: readonly PrescriptionTable[] = Object.freeze([
  table('eMuster16', 'eMuster16', 'emuster16', 'muster16_id'),
  table('P-Rezept', 'pRezept', 'prezept', 'transaktions_nummer'),
  table('E-Rezept', 'eRezept', 'erezept', 'erezept_id'),
])

/** .NET's OrdinalIgnoreCase equality: each UTF-16 unit compared by its invariant simple upper case. */
export function equalsOrdinalIgnoreCase(a: string, b: string): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!
    const y = b[i]!
    if (x === y) continue
    if (simpleUpper(x) !== simpleUpper(y)) return false
  }
  return true
}

function simpleUpper(ch: string): string {
  const upper = ch.toUpperCase()
  return upper.length === 1 ? upper : ch
}
