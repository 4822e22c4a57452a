// The order the real legacy's v1 `GET new` would list items in on a given database: its own statement
// (measured, no ORDER BY: docs/legacy-contract.md §12.2) per type, concatenated in type order, paged in memory (docs/legacy-contract.md §8).
import pg from 'pg'
import { PRESCRIPTION_TYPES } from '../../sql/queries/prescription-types.ts'
import { observedStatements, statementFor } from '../support/observed-legacy-sql.ts'

interface V1Type { name: 'eMuster16' | 'P-Rezept' | 'E-Rezept'; v1Name: string }

const V1_TYPES: readonly V1Type[] = [
  { name: 'eMuster16', v1Name: 'emuster16' },
  { name: 'P-Rezept', v1Name: 'prezept' },
  { name: 'E-Rezept', v1Name: 'erezept' },
]

/** The legacy's own v1 list statement for one type, as measured (test/support/observed-legacy-sql.ts); undefined where none was observed. */
function legacyStatement(t: V1Type): string | undefined {
  const observed = observedStatements().find((s) => s.request.startsWith('GET /api/v1/Prescriptions/new') && /AS "Type"/.test(s.sql))
  const type = PRESCRIPTION_TYPES.find((p) => p.name === t.name)!
  return observed === undefined ? undefined : statementFor(observed.sql, type)
}

export interface V1Key { readonly type: string; readonly id: number; readonly datenId: number }

/** What v1 `GET new` binds from the query: rezeptType (case-insensitive), page, pageSize. */
export function v1Selection(rawPath: string): { types: readonly V1Type[]; page: number; pageSize: number } {
  const q = rawPath.indexOf('?')
  const params = new URLSearchParams(q < 0 ? '' : rawPath.slice(q + 1))
  const get = (name: string) => [...params].find(([k]) => k.toLowerCase() === name)?.[1]
  const rezeptType = get('rezepttype')
  const types = rezeptType === undefined || rezeptType.trim() === '' ? V1_TYPES : V1_TYPES.filter((t) => t.v1Name === rezeptType.toLowerCase())
  return { types, page: Number(get('page') ?? 1), pageSize: Number(get('pagesize') ?? 100) }
}

/**
 * The keys of the page the legacy would answer, read now from `databaseUrl` with PostgreSQL's
 * default planner settings (a fresh connection that sets nothing); 'unknown' where the legacy's
 * statement is not at hand (the order is then not checked, the items still are).
 */
export async function legacyV1Page(databaseUrl: string, rawPath: string): Promise<V1Key[] | 'unknown'> {
  const { types, page, pageSize } = v1Selection(rawPath)
  const statements = types.map(legacyStatement)
  if (statements.some((sql) => sql === undefined)) return 'unknown'
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  const all: V1Key[] = []
  try {
    for (const [i, t] of types.entries()) {
      const rows = (await client.query<{ Id: number; DatenId: number }>(statements[i]!)).rows
      for (const row of rows) all.push({ type: t.name, id: row.Id, datenId: row.DatenId })
    }
  } finally {
    await client.end()
  }
  // LINQ Skip/Take over the loaded list: a negative skip is none, a negative take yields nothing.
  const skip = Math.max(0, Math.imul((page - 1) | 0, pageSize))
  return all.slice(skip, skip + Math.max(0, pageSize))
}
