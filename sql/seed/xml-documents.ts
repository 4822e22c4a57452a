// SQL expressions building the pharmacies' XML (daten.xml_request, header_daten.xml_request):
// 1 to 8 KB, German text, entities, quotes, + and backticks, sometimes an emoji or a TAB, so that
// the JSON escaping of docs/legacy-contract.md §1 is exercised by ordinary rows, not only by the edge rows.
import { CITIES, FIRST_NAMES, hashOf, pick, SURNAMES } from './generated-values.ts'

const XML_HEAD = `'<?xml version="1.0" encoding="UTF-8"?>' || E'\\n'`

/**
 * The prescription XML of row g. `salt` keeps the types' streams apart; `reference` is the SQL
 * of the type's own id (muster16_id, transaktions_nummer, erezept_id) as text, may be NULL.
 */
export function prescriptionXml(label: string, salt: number, reference: string, pharmacyIkSql: string): string {
  const h = hashOf(salt + 7)
  // 4..19 positions for most rows (1.2 to 3 KB), 4..49 for one in twenty (at most 8000 bytes).
  const positions = `(4 + CASE WHEN ${h} % 20 = 0 THEN (${h} >> 8) % 46 ELSE (${h} >> 8) % 16 END)::int`
  return `(${XML_HEAD}
    || '<Rezept xmlns="urn:gfal:arzti:rezept:1.3" typ="${label}" id="' || g || '" referenz="' || coalesce(${reference}, '') || '">'
    || '<Apotheke ik="' || ${pharmacyIkSql} || '" name="Löwen-Apotheke Groß &amp; Söhne" hinweis=''Öffnung "Mo–Fr" 8–18 Uhr''/>'
    || '<Versicherter nachname="' || ${pick(SURNAMES, `${h} >> 12`)} || '" vorname="' || ${pick(FIRST_NAMES, `${h} >> 20`)}
    || '" ort="' || ${pick(CITIES, `${h} >> 28`)} || '"/>'
    || '<Verordnung code="A+B\`' || (${h} >> 36) % 100 || '\`">Ibuprofen 400 &amp; Paracetamol 500 – "bei Bedarf" &lt;max. 3×&gt; täglich, '
    || 'Größe N2 + Säfte \`kühl lagern\` > 8 °C, Kind''s Dosis</Verordnung>'
    || CASE WHEN ${h} % 10 = 3 THEN '<Bemerkung gruss="Gute Besserung 💊">Rückfrage beim Arzt erfolgt 👍</Bemerkung>' ELSE '' END
    || CASE WHEN ${h} % 7 = 2 THEN E'<Freitext>Spalte1\\tSpalte2\\tStraße</Freitext>' ELSE '' END
    || '<Positionen>' || repeat('<Position pzn="0' || (1000000 + (${h} >> 40) % 9000000)
       || '" menge="1" faktor="1.000000">Präparat für Frau/Herrn ' || ${pick(SURNAMES, `${h} >> 44`)}
       || ': Tabletten 20 St. &amp; Beipackzettel (Größe N1)</Position>', ${positions})
    || '</Positionen></Rezept>')`
}

/** A delivery's XML (header_daten.xml_request), 1 to 2 KB. */
export function deliveryXml(hdr: string, deliveryIdSql: string, pharmacyIkSql: string): string {
  const h = hashOf(21, hdr)
  return `(${XML_HEAD}
    || '<Lieferung xmlns="urn:gfal:arzti:lieferung:1.3" id="' || ${deliveryIdSql} || '" apotheke="' || ${pharmacyIkSql} || '">'
    || '<Software hersteller="Pharmatechnik &amp; Söhne GmbH" name=''"ApoSoft" Plus'' version="3.' || ${h} % 10 || '"/>'
    || '<Hinweis>Übertragung geprüft: Größe &lt; 10 MB, Prüfsumme + Signatur \`ok\`</Hinweis>'
    || repeat('<Datei typ="rezept" groesse="' || 800 + ${h} % 7000 || '">Rezeptdaten für Abrechnung (Säule ÄÖÜ)</Datei>',
       (6 + (${h} >> 8) % 14)::int)
    || '</Lieferung>')`
}

/**
 * The XML of the edge row that carries every character class the JSON writer must escape (docs/legacy-contract.md
 * §1): quotes, < > & ' + and backtick in text and attributes, umlauts, ß, an emoji outside the BMP,
 * TAB, a backslash and a DEL; padded to just under 8 KB, the largest size the README describes.
 */
export function edgeXml(label: string): string {
  const head = '<?xml version="1.0" encoding="UTF-8"?>\n'
    + `<Rezept xmlns="urn:gfal:arzti:rezept:1.3" typ="${label}" kennung='Sonder"fall' code="A+B\`C\`">`
    + '<Apotheke name="Apotheke &quot;Zur Brücke&quot; &amp; Co" inhaber=\'Jörg D\'\'Angelo\'/>'
    + '<Text>Dosis > 2 &amp; &lt; 5 ist &lt;unüblich&gt;, "Notdienst" \'heute\' + `morgen` – Größe ß ÄÖÜ äöü 💊🩺</Text>'
    + '<Tab>Spalte1\tSpalte2</Tab><Pfad>C:\\Rezepte\\2025</Pfad><Steuer>\u007f</Steuer>'
  const block = '<Position pzn="01234567" hinweis=\'"A" &amp; B\'>Präparat mit Umlauten äöü ß, Menge 1 + 2 `x`</Position>'
  const tail = '</Rezept>'
  const blocks = Math.floor((8000 - Buffer.byteLength(head + tail)) / Buffer.byteLength(block))
  return head + block.repeat(blocks) + tail
}
