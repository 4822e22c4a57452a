// The statements the real legacy sends to a tenant database, as measured on the real service
// (test/fixtures/legacy-observed-sql/, docs/legacy-contract.md §12.1-12.2). Observed for eMuster16; the other types are the same shapes on
// their own tables and columns (as observed-sql.md says), so each statement is renamed per type.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { PrescriptionType } from '../../sql/queries/prescription-types.ts'

/** Where the measurements lie: a fixture, as the recordings are. */
export const OBSERVED_SQL_PATH = fileURLToPath(new URL('../fixtures/legacy-observed-sql/observed-sql.md', import.meta.url))

export interface ObservedStatement {
  /** The heading the statement stands under: the request that sent it. */
  readonly request: string
  readonly sql: string
  /** The values the legacy bound, as its log printed them ($1 first). */
  readonly bound: readonly string[]
}

/** Every statement of observed-sql.md with something to plan (transaction control left out). */
export function observedStatements(): ObservedStatement[] {
  const statements: ObservedStatement[] = []
  let request = ''
  let block: string[] | undefined
  for (const line of readFileSync(OBSERVED_SQL_PATH, 'utf8').split('\n')) {
    if (block === undefined) {
      if (line.startsWith('## ')) request = line.slice(3).trim()
      else if (line.trim() === '```sql') block = []
      continue
    }
    if (line.trim() !== '```') {
      block.push(line)
      continue
    }
    const bound = block.filter((l) => l.trim().startsWith('-- bound:')).flatMap((l) => [...l.matchAll(/\$\d+ = '([^']*)'/g)].map((m) => m[1]!))
    const sql = block.filter((l) => !l.trim().startsWith('--')).join('\n').trim()
    block = undefined
    if (!/^(BEGIN|SAVEPOINT|RELEASE|COMMIT|ROLLBACK)\b/i.test(sql)) statements.push({ request, sql, bound })
  }
  return statements
}

/** An observed (eMuster16) statement on another type's tables and columns. */
export function statementFor(sql: string, type: PrescriptionType): string {
  if (type.key === 'em16') return sql
  const stem = type.main.slice('er_senderezepte_'.length)
  return sql.replaceAll('muster16_id', type.numberColumn).replaceAll('emuster16', stem).replaceAll("'eMuster16'", `'${type.name}'`)
}
