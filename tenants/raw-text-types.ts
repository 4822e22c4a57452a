// Rows as PostgreSQL's own text: pg's type parsers turned off for a query. The fast path writes the
// legacy's bytes from the database's text forms (dates, numerics) and must never see them re-shaped by
// JavaScript's Date or Number on the way.
import type pg from 'pg'

export const RAW_TEXT = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig
