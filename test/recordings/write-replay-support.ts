// The recorded write sequence of the real legacy (gold-writes, gold-tables-after-writes): loading it, sending it to an upstream, comparing answers and tables.
import { request as httpRequest } from 'node:http'
import { readFile } from 'node:fs/promises'
import { gunzipSync } from 'node:zlib'
import pg from 'pg'

const FIXTURES = new URL('../fixtures/legacy-recordings/', import.meta.url)

export interface RecordedExchange {
  readonly method: string
  /** Exactly as sent, raw. */
  readonly path: string
  /** Every header sent besides Host, Content-Type and Content-Length; a list when sent twice. */
  readonly headers: Readonly<Record<string, string | readonly string[]>>
  readonly body_sent: string | null
  readonly status: number
  readonly content_type: string
  readonly body: string
}

export interface RecordedRow {
  readonly table: string
  /** Column values; numbers kept as their JSON text (bigints beyond 2^53 keep every digit). */
  readonly row: Readonly<Record<string, string | boolean | null>>
}

/** JSON.parse keeping every number as the text it was written as (Node 22+ passes the source text). */
function parseKeepingNumbers(text: string): unknown {
  const reviver = (_key: string, value: unknown, context?: { source?: string }) =>
    typeof value === 'number' && context?.source !== undefined ? context.source : value
  return JSON.parse(text, reviver as (key: string, value: unknown) => unknown)
}

async function readJsonLines(name: string): Promise<unknown[]> {
  const text = gunzipSync(await readFile(new URL(name, FIXTURES))).toString('utf8')
  return text.split('\n').filter((line) => line !== '').map(parseKeepingNumbers)
}

export async function recordedWrites(): Promise<RecordedExchange[]> {
  return ((await readJsonLines('gold-writes.jsonl.gz')) as Array<RecordedExchange & { status: string }>)
    .map((exchange) => ({ ...exchange, status: Number(exchange.status) }))
}

export async function recordedTablesAfterWrites(): Promise<RecordedRow[]> {
  return (await readJsonLines('gold-tables-after-writes.jsonl.gz')) as RecordedRow[]
}

export interface Answer {
  readonly status: number
  readonly contentType: string
  readonly body: string
}

/** Sends one recorded request as it was sent: raw path, its headers (twice when recorded twice), the body as application/json. */
export function sendRecorded(baseUrl: string, exchange: RecordedExchange): Promise<Answer> {
  const base = new URL(baseUrl)
  // Raw header pairs keep a repeated header repeated; Node adds no Host to them, so it comes first here.
  const headers: string[] = ['Host', base.host]
  for (const [name, value] of Object.entries(exchange.headers)) {
    for (const v of typeof value === 'string' ? [value] : value) headers.push(name, v)
  }
  const body = exchange.body_sent === null ? null : Buffer.from(exchange.body_sent, 'utf8')
  if (body !== null) headers.push('Content-Type', 'application/json', 'Content-Length', String(body.length))
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: base.hostname, port: base.port, method: exchange.method, path: exchange.path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode!, contentType: res.headers['content-type'] ?? '', body: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body ?? undefined)
  })
}

// recordings/README.md: these values change on every answer; their string values are blanked on both sides.
const VOLATILE = /"(responseTimestamp|deliveryTimestamp|timestamp|traceId)":"[^"]*"/g

export function blankVolatile(body: string): string {
  return body.replace(VOLATILE, '"$1":""')
}

/** Where two texts first differ, with some context on both sides; null when they are equal. */
export function firstDifference(expected: string, actual: string, context = 60): string | null {
  if (expected === actual) return null
  let i = 0
  while (i < expected.length && i < actual.length && expected.charCodeAt(i) === actual.charCodeAt(i)) i++
  const from = Math.max(0, i - context)
  return `first difference at character ${i} (lengths ${expected.length} vs ${actual.length}): ` +
    `recorded …${JSON.stringify(expected.slice(from, i + context))}… received …${JSON.stringify(actual.slice(from, i + context))}…`
}

/** The tables the recording lists after the writes, read from a tenant database in the recording's form. */
export async function currentTables(databaseUrl: string, tables: readonly string[]): Promise<RecordedRow[]> {
  const client = new pg.Client({ connectionString: databaseUrl })
  client.on('error', () => {})
  await client.connect()
  try {
    const rows: RecordedRow[] = []
    for (const table of tables) {
      const id = `id_senderezepte_${table.replace(/^er_senderezepte_/, '')}`
      const columns = table.endsWith('_daten') ? `${id}, rezept_uuid, transfer_arz` : '*'
      const result = await client.query<{ row: string }>(`SELECT row_to_json(t)::text AS row FROM (SELECT ${columns} FROM ${table}) t`)
      for (const r of result.rows) rows.push({ table, row: parseKeepingNumbers(r.row) as RecordedRow['row'] })
    }
    return rows
  } finally {
    await client.end()
  }
}

function primaryKey(row: RecordedRow): string {
  const column = `id_senderezepte_${row.table.replace(/^er_senderezepte_/, '')}`
  return `${row.table} ${column}=${String(row.row[column])}`
}

/**
 * Row-by-row differences between the recorded tables and the current ones, by primary key. A recorded
 * `status_abfrage_datum` equal to `recordedToday` stands for `runToday` (the writes' "today").
 */
export function tableDifferences(recorded: readonly RecordedRow[], current: readonly RecordedRow[], recordedToday: string, runToday: string): string[] {
  const byKey = new Map(current.map((row) => [primaryKey(row), row]))
  const differences: string[] = []
  for (const expected of recorded) {
    const key = primaryKey(expected)
    const actual = byKey.get(key)
    byKey.delete(key)
    if (actual === undefined) {
      differences.push(`${key}: recorded, missing now: ${JSON.stringify(expected.row)}`)
      continue
    }
    for (const [column, value] of Object.entries(expected.row)) {
      const want = column === 'status_abfrage_datum' && value === recordedToday ? runToday : value
      if (actual.row[column] !== want) {
        differences.push(`${key}: ${column} recorded ${JSON.stringify(want)}, now ${JSON.stringify(actual.row[column])} (row now ${JSON.stringify(actual.row)})`)
      }
    }
    for (const column of Object.keys(actual.row)) {
      if (!(column in expected.row)) differences.push(`${key}: column ${column} is not in the recording`)
    }
  }
  for (const [key, extra] of byKey) differences.push(`${key}: not recorded, present now: ${JSON.stringify(extra.row)}`)
  return differences
}
