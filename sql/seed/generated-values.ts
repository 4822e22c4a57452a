// SQL expressions for the seeded data's deterministic pseudo-random values: every value is a pure
// function of (seed, row number), so the same options always give the same rows, ids and content.

/**
 * A non-negative 63-bit hash of `of` under the run's seed and a salt. Different salts give
 * independent streams; the statements bind the seed as @seed.
 */
export function hashOf(salt: number, of = 'g'): string {
  return `(hashint8extended((${of})::bigint, @seed * 1000 + ${salt}) & 9223372036854775807)`
}

/** One of `values`, chosen by the hash expression `h`. */
export function pick(values: readonly string[], h: string): string {
  const literals = values.map((v) => `'${v.replaceAll("'", "''")}'`).join(',')
  return `(ARRAY[${literals}]::text[])[1 + (${h}) % ${values.length}]`
}

// The word lists carry umlauts, ß and an apostrophe on purpose (docs/legacy-contract.md §1 escapes them).
export const SURNAMES = ['Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weiß', 'Größer', 'Becker', 'Schäfer', 'Köhler',
  "D'Angelo", 'Krüger', 'Hoffmann', 'Schröder', 'Wagner', 'Jäger', 'Groß', 'Öztürk', 'Nußbaum', 'Zimmermann', 'Bäcker']
export const FIRST_NAMES = ['Jürgen', 'Anna', 'Sören', 'Lena', 'Björn', 'Maria', 'Jörg', 'Ülkü', 'Käthe', 'Paul',
  'Chloé', 'Hans-Peter', 'Renée', 'Günther', 'Zoë', 'Max']
export const CITIES = ['München', 'Köln', 'Düsseldorf', 'Nürnberg', 'Lübeck', 'Görlitz', 'Würzburg', 'Saarbrücken',
  'Berlin', 'Hamburg', 'Gießen', 'Fürth']
export const STREETS = ['Hauptstraße', 'Bahnhofstraße', 'Schloßallee', 'Am Mühlbach', 'Lindenweg', 'Königsplatz',
  'Kirchgäßchen', 'Marktplatz']
export const INSURERS = ['AOK Bayern', 'Techniker Krankenkasse', 'BARMER', 'DAK-Gesundheit', 'IKK classic',
  'Knappschaft', 'BKK Mobil Oil', 'Hanseatische Krankenkasse (HEK)', 'Süddeutsche BKK', 'AOK Nordost']
export const STATUS_VALUES = ['VOR_PRUEFUNG', 'VOR_ABRECHNUNG', 'FEHLER', 'VERBESSERBAR', 'RUECKWEISUNG', 'ABGERECHNET',
  'STORNIERT', 'HINWEIS', 'ABRECHENBAR', 'GELESEN'] as const
/** Statuses of prescriptions still to be fetched, weighted towards the early stages. */
export const OPEN_STATUSES = ['VOR_PRUEFUNG', 'VOR_PRUEFUNG', 'VOR_PRUEFUNG', 'VOR_ABRECHNUNG', 'VOR_ABRECHNUNG',
  'ABRECHENBAR', 'FEHLER', 'VERBESSERBAR', 'RUECKWEISUNG', 'HINWEIS', 'STORNIERT', 'GELESEN']
export const RARE_CLOSED_STATUSES = ['STORNIERT', 'HINWEIS', 'RUECKWEISUNG', 'VOR_PRUEFUNG', 'FEHLER']

// ------------------------------------------------------------------ deliveries (header rows)
// A delivery's facts are functions of its number, so every table can derive them without a join.
// Deliveries run from 2019-01-02 over 2870 days: the newest ids carry the newest dates.

export function deliveryDate(hdr: string): string {
  return `(date '2019-01-02' + ((${hdr} - 1)::bigint * 2870 / @headers)::int)`
}

export function deliveryTime(hdr: string): string {
  const h = hashOf(11, hdr)
  return `make_time(6 + ((${h}) % 14)::int, ((${h} >> 8) % 60)::int, ((${h} >> 16) % 60)::double precision)`
}

/** 17 or 23 characters (the column's maximum). */
export function deliveryId(hdr: string): string {
  const date = deliveryDate(hdr)
  return `(CASE WHEN ${hashOf(12, hdr)} % 4 = 0
    THEN 'RZ' || to_char(${date}, 'YYYYMMDD') || '-' || lpad((${hdr})::text, 12, '0')
    ELSE 'RZ' || to_char(${date}, 'YYMMDD') || lpad((${hdr})::text, 9, '0') END)`
}

/** The pharmacy (1 .. @pharmacies) that sent a delivery. */
export function pharmacyOf(hdr: string): string {
  return `(1 + ${hashOf(13, hdr)} % @pharmacies)`
}

/** A pharmacy's 9-digit IK number. */
export function pharmacyIk(pharmacy: string): string {
  return `(300000000 + ${hashOf(14, pharmacy)} % 699999999)`
}

export function pharmacyInternalNumber(pharmacy: string): string {
  return `(10000 + (${pharmacy}) * 7 + ${hashOf(15, pharmacy)} % 7)::int`
}

/** The delivery a prescription g of a type with @count rows belongs to: ids rise with time. */
export const DELIVERY_OF_ROW = '(1 + ((g - 1)::bigint * @headers / @count)::int)'
