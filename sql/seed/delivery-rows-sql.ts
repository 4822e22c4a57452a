// The generation statements for a tenant's pharmacies (er_apotheke) and deliveries
// (er_senderezepte_header and _header_daten), which the prescriptions point at.
import {
  CITIES, deliveryDate, deliveryId, deliveryTime, FIRST_NAMES, hashOf, pharmacyIk, pharmacyInternalNumber, pharmacyOf, pick,
  STREETS, SURNAMES,
} from './generated-values.ts'
import { namedStatement, type NamedStatement } from './named-parameters.ts'
import { deliveryXml } from './xml-documents.ts'

// Pharmacies p = 1..@pharmacies; the Apotheken routes (docs/legacy-contract.md §9) list, search and find them by IK.
function pharmaciesInsert(): string {
  const h = hashOf(31, 'p')
  return `INSERT INTO er_apotheke (id_apotheke, apotheke_name, apotheke_name_zusatz, apo_ik_nr, apo_int_nr,
      inhaber_vorname, inhaber_nachname, plz, ort, strasse, email, telefon, mobil, fax, bemerkung, bundesland,
      mandant_type, id_le_type, id_hauptapotheke, id_ht_anrede, filialapotheke, gesperrt, sec_login, sec_login_werte,
      sec_login_nur_apo_user, aen_id_sec_user, aen_datum, aen_zeit)
    SELECT p, ${pick(['Löwen-Apotheke', 'Apotheke am Schloß', 'Stern-Apotheke', 'Rats-Apotheke', 'Bären-Apotheke',
        'Apotheke "Zur Post"', 'Marien-Apotheke', 'Süd-Apotheke', 'Hof-Apotheke & Sanitätshaus', 'Mühlen-Apotheke'], h)}
        || ' ' || ${pick(CITIES, `${h} >> 4`)},
      CASE WHEN (${h} >> 8) % 3 = 0 THEN NULL ELSE 'Inh. ' || ${pick(SURNAMES, `${h} >> 10`)} || ' e.K.' END,
      ${pharmacyIk('p')}, ${pharmacyInternalNumber('p')},
      CASE WHEN (${h} >> 14) % 10 = 0 THEN NULL ELSE ${pick(FIRST_NAMES, `${h} >> 16`)} END, ${pick(SURNAMES, `${h} >> 20`)},
      CASE WHEN (${h} >> 24) % 12 = 0 THEN NULL ELSE (1067 + (${h} >> 26) % 98000)::int END, ${pick(CITIES, `${h} >> 4`)},
      ${pick(STREETS, `${h} >> 34`)} || ' ' || (1 + (${h} >> 38) % 90),
      CASE WHEN (${h} >> 42) % 4 = 0 THEN NULL ELSE 'apotheke' || p || '@beispiel-apotheke.de' END,
      '0' || (30 + (${h} >> 44) % 900) || '/' || (100000 + (${h} >> 20) % 900000),
      CASE WHEN (${h} >> 46) % 3 = 0 THEN '0171/' || (1000000 + (${h} >> 8) % 9000000) END,
      CASE WHEN (${h} >> 48) % 2 = 0 THEN NULL ELSE '0' || (30 + (${h} >> 44) % 900) || '/' || (200000 + (${h} >> 20) % 700000) END,
      CASE WHEN (${h} >> 50) % 5 = 0 THEN 'Notdienst: Mo–Fr; Rückfragen über "Zentrale" & Fax' END,
      ${pick(['Bayern', 'Nordrhein-Westfalen', 'Baden-Württemberg', 'Thüringen', 'Schleswig-Holstein', 'Sachsen'], `${h} >> 52`)},
      CASE WHEN p % 40 = 0 THEN 'HRST' ELSE 'APO' END, 0, CASE WHEN p % 7 = 0 THEN p - 1 ELSE 0 END, ((${h} >> 56) % 3)::int2,
      (p % 7 = 0)::int::int2, p % 50 = 13, 0, NULL, false,
      CASE WHEN (${h} >> 58) % 2 = 0 THEN NULL ELSE 1 END,
      CASE WHEN (${h} >> 58) % 2 = 0 THEN NULL ELSE date '2024-01-01' + (p * 3)::int END,
      CASE WHEN (${h} >> 58) % 2 = 0 THEN NULL ELSE make_time(9, (p % 60)::int, 0) END
    FROM generate_series(1, @pharmacies) AS p`
}

function deliveriesInsert(): string {
  const h = hashOf(32, 'd')
  const pharmacy = pharmacyOf('d')
  return `INSERT INTO er_senderezepte_header (id_senderezepte_header, apo_int_nr, apo_ik_nr, software_hersteller,
      software_name, software_version, apo_password, testdaten, rz_liefer_id, rz_liefer_datum, rz_liefer_zeit,
      avs_sende_id, rezept_status, rezept_check, rez_typ, reztyp_erez, reztyp_em16, reztyp_prez, abfrage_datum,
      abfrage_zeit, check_erez, check_em16, check_prez, import_typ, check_datum, check_zeit)
    SELECT d, ${pharmacyInternalNumber(pharmacy)}::text, ${pharmacyIk(pharmacy)},
      ${pick(['Pharmatechnik GmbH & Co. KG', 'ADV Apotheken-Software', 'Noventi HealthCare', 'CGM Lauer'], h)},
      ${pick(['IXOS', 'awinta one', 'Prokas', 'Winapo ux'], `${h} >> 2`)}, '3.' || (${h} >> 4) % 20 || '.' || (${h} >> 9) % 10,
      substr(md5(@seed || ':pw:' || d), 1, 16), (${h} >> 12) % 100 = 0, ${deliveryId('d')}, ${deliveryDate('d')},
      ${deliveryTime('d')}, 1000000000 + d, 'GELESEN', true, 'X', true, true, (${h} >> 14) % 3 = 0,
      ${deliveryDate('d')} + 1, make_time(5, ((${h} >> 16) % 60)::int, 0), true, true, (${h} >> 14) % 3 = 0,
      ((${h} >> 22) % 3)::int2, ${deliveryDate('d')} + 1, make_time(6, ((${h} >> 24) % 60)::int, 0)
    FROM generate_series(@lo, @hi) AS d`
}

function deliveryDocumentsInsert(): string {
  return `INSERT INTO er_senderezepte_header_daten (id_senderezepte_header_daten, id_senderezepte_header, header_uuid,
      transfer_arz, xml_request)
    SELECT d, d, md5(@seed || ':header:' || d)::uuid::text, d <= @headers - greatest(@headers / 25, 2),
      ${deliveryXml('d', deliveryId('d'), pharmacyIk(pharmacyOf('d')))}
    FROM generate_series(@lo, @hi) AS d`
}

/** Built once at module load; parameters: @seed, @pharmacies, @headers and (deliveries) @lo, @hi. */
export const DELIVERY_STATEMENTS: Readonly<Record<'pharmacies' | 'deliveries' | 'deliveryDocuments', NamedStatement>> =
  Object.freeze({
    pharmacies: namedStatement(pharmaciesInsert()),
    deliveries: namedStatement(deliveriesInsert()),
    deliveryDocuments: namedStatement(deliveryDocumentsInsert()),
  })
