// Reads the legacy schemas (sql/legacy/*.sql) and splits them into table and index statements, so
// the seeder can create the tables, load them, and only then build the secondary indexes.
import { readFile } from 'node:fs/promises'

export interface LegacySchema {
  /** CREATE TABLE statements, in file order (foreign keys point backwards). */
  readonly tables: readonly string[]
  /** CREATE [UNIQUE] INDEX statements, in file order. */
  readonly indexes: readonly string[]
  /** Table names, in file order. */
  readonly tableNames: readonly string[]
  /** Each table's serial primary-key column, whose sequence must follow explicitly written ids. */
  readonly serialColumns: Readonly<Record<string, string>>
}

export type LegacySchemaFile = 'arzsw' | 'apoti'

export async function readLegacySchema(file: LegacySchemaFile): Promise<LegacySchema> {
  const text = await readFile(new URL(`../legacy/${file}.sql`, import.meta.url), 'utf8')
  return splitLegacySchema(text)
}

export function splitLegacySchema(sqlText: string): LegacySchema {
  // The schema files hold no string literal containing "--" or ";", so line comments can be cut
  // and statements split at semicolons.
  const withoutComments = sqlText.split('\n').map((line) => line.replace(/--.*$/, '')).join('\n')
  const statements = withoutComments.split(';').map((s) => s.trim()).filter((s) => s.length > 0)
  const tables: string[] = []
  const indexes: string[] = []
  const tableNames: string[] = []
  const serialColumns: Record<string, string> = {}
  for (const statement of statements) {
    const table = /^CREATE\s+TABLE\s+(\w+)/i.exec(statement)
    if (table) {
      tables.push(statement)
      tableNames.push(table[1]!)
      const serial = /\(\s*(\w+)\s+serial\b/i.exec(statement)
      if (serial) serialColumns[table[1]!] = serial[1]!
    } else if (/^CREATE\s+(UNIQUE\s+)?INDEX\b/i.test(statement)) {
      indexes.push(statement)
    } else {
      throw new Error(`unexpected statement in legacy schema: ${statement.slice(0, 60)}`)
    }
  }
  return { tables, indexes, tableNames, serialColumns }
}

/** The table an index statement is built on. */
export function indexTable(indexStatement: string): string {
  const match = /\bON\s+(\w+)/i.exec(indexStatement)
  if (!match) throw new Error(`no table in index statement: ${indexStatement.slice(0, 60)}`)
  return match[1]!
}
