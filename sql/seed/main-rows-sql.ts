// The generation statements for the prescriptions' main rows of each type and their item rows
// (eMuster16 articles, P-Rezept batches). Each covers rows g = @lo..@hi of a type with @count rows.
import {
  CITIES, DELIVERY_OF_ROW, deliveryDate, deliveryId, deliveryTime, FIRST_NAMES, hashOf, INSURERS, pharmacyIk, pharmacyOf,
  pick, STREETS, SURNAMES,
} from './generated-values.ts'
import { namedStatement, type NamedStatement } from './named-parameters.ts'
import { EMUSTER16, EREZEPT, PREZEPT, type PrescriptionType, type PrescriptionTypeKey } from './prescription-types.ts'

const DELIVERY_DATE = deliveryDate(DELIVERY_OF_ROW)

// The columns every type's main table shares, in one place so the three stay alike.
function commonColumns(type: PrescriptionType): { names: string; values: string } {
  const h = hashOf(type.salt + 2)
  return {
    names: `${type.idColumn}, id_senderezepte_header, rz_liefer_id, rz_liefer_datum, rz_liefer_zeit, rz_datum,
      ${type.referenceColumn}, apo_ik_nr, avs_id, abrechnungs_periode`,
    values: `g, ${DELIVERY_OF_ROW}, ${deliveryId(DELIVERY_OF_ROW)}, ${DELIVERY_DATE}, ${deliveryTime(DELIVERY_OF_ROW)},
      to_char(${DELIVERY_DATE}, 'YYYY-MM-DD') || 'T' || ${deliveryTime(DELIVERY_OF_ROW)}::text,
      ${type.referenceSql}, ${pharmacyIk(pharmacyOf(DELIVERY_OF_ROW))}, 'AVS' || lpad((${h} % 1000000)::text, 6, '0'),
      to_char(${DELIVERY_DATE}, 'YYYYMM')`,
  }
}

// Prescription facts shared by eMuster16 and P-Rezept (the paper-based types).
function claimColumns(type: PrescriptionType): { names: string; values: string } {
  const h = hashOf(type.salt + 8)
  return {
    names: `abda_kassentyp, abgabedatum, arbeitsplatz, bediener, arzt_nr, betriebsstaetten_nr, kk_ik_nr, kk_name, kk_typ,
      rezept_typ, verordnungsdatum, versicherten_nummer, versicherten_geburtsdatum, versicherten_status,
      versichertenkarte_gueltig_bis, gesamtes_brutto, zuzahlung, kz_bvg, kz_gebuehren_frei, kz_noctu, kz_sonstige,
      kz_sprechstundenbedarf`,
    values: `${pick(['AOK', 'BKK', 'IKK', 'VDEK', 'LKK', 'KBS'], h)}, ${DELIVERY_DATE} - ((${h} >> 4) % 3)::int,
      'Kasse ' || (1 + (${h} >> 6) % 4), ${pick(FIRST_NAMES, `${h} >> 8`)}, 100000000 + (${h} >> 12) % 899999999,
      100000000 + (${h} >> 16) % 899999999, 101000000 + (${h} >> 20) % 9000000, ${pick(INSURERS, `${h} >> 24`)},
      ${pick(['GKV', 'PKV', 'SOZ'], `${h} >> 28`)},
      CASE WHEN (${h} >> 30) % 100 < 90 THEN 'STANDARDREZEPT' WHEN (${h} >> 30) % 100 < 95 THEN 'BTM' ELSE 'SPRECHSTUNDENBEDARF' END,
      ${DELIVERY_DATE} - (1 + (${h} >> 34) % 14)::int, chr(65 + ((${h} >> 38) % 26)::int) || lpad(((${h} >> 20) % 1000000000)::text, 9, '0'),
      date '1935-01-01' + ((${h} >> 40) % 30000)::int, lpad(((${h} >> 44) % 10)::text, 1) || '000001',
      lpad((1 + (${h} >> 46) % 12)::text, 2, '0') || '/' || (27 + (${h} >> 50) % 5),
      ((${h} >> 8) % 50000)::numeric / 100, ((${h} >> 18) % 1001)::numeric / 100,
      0, ((${h} >> 52) % 10 = 0)::int, ((${h} >> 53) % 7 = 0)::int, 0, 0`,
  }
}

function emuster16Insert(): string {
  const common = commonColumns(EMUSTER16)
  const claim = claimColumns(EMUSTER16)
  const h = hashOf(EMUSTER16.salt + 9)
  return `INSERT INTO er_senderezepte_emuster16 (${common.names}, ${claim.names}, unfall_datum, versicherten_name,
      versicherten_vorname, versicherten_titel, versicherten_strasse, versicherten_plz, versicherten_ort, eigenanteil,
      begr_pflicht, kz_hilfsmittel, kz_impfstoff, kz_unfall, kz_arbeitsunfall)
    SELECT ${common.values}, ${claim.values},
      CASE WHEN ${h} % 100 = 0 THEN ${DELIVERY_DATE} - 30 END, ${pick(SURNAMES, `${h} >> 4`)}, ${pick(FIRST_NAMES, `${h} >> 10`)},
      CASE WHEN (${h} >> 14) % 20 = 0 THEN 'Dr.' END, ${pick(STREETS, `${h} >> 16`)} || ' ' || (1 + (${h} >> 20) % 120),
      lpad((1067 + (${h} >> 24) % 98000)::text, 5, '0'), ${pick(CITIES, `${h} >> 32`)}, 0,
      ((${h} >> 40) % 9 = 0)::int, ((${h} >> 44) % 25 = 0)::int, ((${h} >> 48) % 30 = 0)::int, (${h} % 100 = 0)::int, 0
    FROM generate_series(@lo, @hi) AS g`
}

function prezeptInsert(): string {
  const common = commonColumns(PREZEPT)
  const claim = claimColumns(PREZEPT)
  const h = hashOf(PREZEPT.salt + 9)
  return `INSERT INTO er_senderezepte_prezept (${common.names}, ${claim.names}, erstellungs_zeitpunkt, hash_code,
      ppos1_faktor, ppos1_pzn, ppos1_taxe)
    SELECT ${common.values}, ${claim.values},
      to_char(${DELIVERY_DATE} - 1, 'YYYY-MM-DD') || 'T0' || (${h} % 10) || ':15:00', md5(@seed || ':hash:' || g),
      (1 + (${h} >> 8) % 1000)::int, 1000000 + (${h} >> 20) % 90000000, ((${h} >> 30) % 300000)::numeric / 100
    FROM generate_series(@lo, @hi) AS g`
}

function erezeptInsert(): string {
  const common = commonColumns(EREZEPT)
  const h = hashOf(EREZEPT.salt + 9)
  const taskId = `coalesce(${EREZEPT.referenceSql}, 'ohne-id')`
  // The bundles make E-Rezept rows wide, as in production; the receipt comes only after billing.
  return `INSERT INTO er_senderezepte_erezept (${common.names}, erezept_data, erezept_everordnung_data,
      erezept_eabgabe_data, erezept_quittung_data)
    SELECT ${common.values},
      repeat(encode(sha256(convert_to(@seed || ':erez:' || g, 'UTF8')), 'base64'), (8 + ${h} % 16)::int),
      '{"resourceType":"Bundle","id":"' || md5(@seed || ':ev:' || g)::uuid || '","type":"document","entry":[{"resource":'
        || '{"resourceType":"MedicationRequest","note":"Einnahme: morgens & abends – nicht mit \\"Grapefruit\\"",'
        || '"patient":"' || ${pick(SURNAMES, `${h} >> 8`)} || ', ' || ${pick(FIRST_NAMES, `${h} >> 12`)} || '","task":"'
        || ${taskId} || '"}}]}',
      '{"resourceType":"Bundle","type":"document","entry":[{"resource":{"resourceType":"MedicationDispense",'
        || '"whenHandedOver":"' || to_char(${DELIVERY_DATE}, 'YYYY-MM-DD') || '","performer":"Apotheke Süd"}}]}',
      CASE WHEN g > @count - greatest(ceil(@count * 0.04)::int8, 40) THEN NULL
        ELSE '{"resourceType":"Bundle","type":"document","signature":"' || md5(@seed || ':q:' || g) || '"}' END
    FROM generate_series(@lo, @hi) AS g`
}

/** 1 to 3 articles per eMuster16; ids (g-1)*3+k, so they need no sequence while loading. */
function emuster16ArticlesInsert(): string {
  const h = hashOf(EMUSTER16.salt + 10)
  return `INSERT INTO er_senderezepte_emuster16_artikel (id_senderezepte_emuster16_artikel, id_senderezepte_emuster16,
      atrikel_nr, arznei_pzn, hilfsmittel_nr, artikel_medi_name, artikel_autidem, artikel_faktor, artikel_taxe)
    SELECT (g - 1) * 3 + k, g, k::int2, 1000000 + (${h} >> 8) % 90000000 + k,
      CASE WHEN (${h} >> 4) % 20 = 0 THEN 1000000000 + (${h} >> 12) % 8999999999 END,
      ${pick(['Ibuprofen 400 mg Filmtabl.', 'Metformin 1000 mg', 'L-Thyroxin 75 µg', 'Pantoprazol 40 mg magensaftr.',
        'Salbutamol Dosier-Aerosol', 'Ramipril 5 mg', 'Novaminsulfon Tropfen 500 mg/ml', 'Größenverstellbare Bandage'], `${h} >> 16 + k`)},
      ((${h} >> 24) % 2)::int2, 1.000000, ((${h} >> 28) % 20000)::numeric / 100
    FROM generate_series(@lo, @hi) AS g CROSS JOIN LATERAL generate_series(1, (1 + ${h} % 3)::int) AS k`
}

/** 1 or 2 batches per P-Rezept; ids (g-1)*2+k. */
function prezeptBatchesInsert(): string {
  const h = hashOf(PREZEPT.salt + 10)
  return `INSERT INTO er_senderezepte_prezept_pcharge (id_senderezepte_prezept_pcharge, id_senderezepte_prezept,
      chargen_nr, anzahl_applikationen, hersteller_nr, hersteller_schluessel, herstellungs_datum)
    SELECT (g - 1) * 2 + k, g, k::int2, (1 + (${h} >> 4) % 30)::int2, 100000000 + (${h} >> 12) % 899999999,
      ((${h} >> 40) % 10)::int2, to_char(${DELIVERY_DATE} - 2, 'YYYY-MM-DD') || 'T10:30:00'
    FROM generate_series(@lo, @hi) AS g CROSS JOIN LATERAL generate_series(1, (1 + ${h} % 2)::int) AS k`
}

export interface MainStatements {
  readonly main: NamedStatement
  /** Articles or batches; E-Rezept has none. */
  readonly items: NamedStatement | null
}

/** Built once at module load; parameters: @seed, @lo, @hi, @count, @headers, @pharmacies. */
export const MAIN_STATEMENTS: Readonly<Record<PrescriptionTypeKey, MainStatements>> = Object.freeze({
  emuster16: Object.freeze({ main: namedStatement(emuster16Insert()), items: namedStatement(emuster16ArticlesInsert()) }),
  prezept: Object.freeze({ main: namedStatement(prezeptInsert()), items: namedStatement(prezeptBatchesInsert()) }),
  erezept: Object.freeze({ main: namedStatement(erezeptInsert()), items: null }),
})
