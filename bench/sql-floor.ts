// The raw SQL floor: what an uncached answer cannot beat. Per "request", the fast path's own statements
// (sql/queries/new-prescriptions.ts) for the request's types, page and size, run by a bare pg pool of the
// fast path's size and session options, rows as raw text as the fast path reads them; no HTTP, no
// authentication, no JSON. The counts are left out as the fast path's count cache leaves them out while
// nothing commits (it still asks for the snapshot, so that is run too).
import pg from 'pg'
import { newPrescriptionStatements, SNAPSHOT_STATEMENT } from '../sql/queries/new-prescriptions.ts'
import { PRESCRIPTION_TYPES } from '../sql/queries/prescription-types.ts'
import type { Send } from './load.ts'
import { RAW_TEXT } from '../tenants/raw-text-types.ts'


export interface SqlFloor {
  sendFor(path: string): Send
  close(): Promise<void>
}

export function sqlFloor(tenantUrl: string, maxPageSize: number, poolSize = 10): SqlFloor {
  const pool = new pg.Pool({ connectionString: tenantUrl, max: poolSize, options: '-c jit=off -c random_page_cost=1.1 -c DateStyle=ISO' })
  return {
    sendFor(path: string): Send {
      const query = new URLSearchParams(path.slice(path.indexOf('?') + 1))
      const typeName = query.get('type')?.toLowerCase()
      const types = PRESCRIPTION_TYPES.filter((t) => typeName === undefined || t.foldedName === typeName)
      const page = Number(query.get('page') ?? 1)
      const pageSize = Math.min(Number(query.get('pageSize') ?? 100), maxPageSize)
      const statements = types.map(newPrescriptionStatements)
      return async () => {
        // As the fast path with its counts reused: the pages side by side, then the snapshot that
        // confirms the counts (read after the pages, routes/v2-rezept-list/queries.ts).
        const pages = await Promise.all(statements.map((s) =>
          pool.query<Array<string | null>>({ name: s.pageName, text: s.pageSql, values: [(page - 1) * pageSize, pageSize], rowMode: 'array', types: RAW_TEXT })))
        await pool.query({ name: SNAPSHOT_STATEMENT.name, text: SNAPSHOT_STATEMENT.sql, rowMode: 'array', types: RAW_TEXT })
        let bytes = 0
        for (const result of pages) for (const row of result.rows) bytes += row[5]?.length ?? 0
        return bytes
      }
    },
    close: () => pool.end(),
  }
}
