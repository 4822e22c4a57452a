// The uuid pools of a seeded world for the statusuuid cases: read through the legacy's own list route
// (simulator) for the window and beyond it, and from the daten tables for prescriptions that are not new.
import { connect, urlForDatabase } from '../../../sql/seed/database-setup.ts'
import type { SeedReport } from '../../../sql/seed/seed.ts'
import { pgAdminUrl } from '../../../dev/services.ts'
import { CASE_USERS, basicAuthorization, type CaseUser } from '../v2-rezept-list/cases.ts'
import { send } from '../v2-rezept-list/comparison-fixture.ts'
import type { UuidPools } from './status-cases.ts'

const TYPES = ['eMuster16', 'P-Rezept', 'E-Rezept'] as const

const DATEN = ['er_senderezepte_emuster16_daten', 'er_senderezepte_prezept_daten', 'er_senderezepte_erezept_daten']

/**
 * Makes nine in ten of a tenant's prescriptions new again (transfer_arz = false, no longer billed), so that a tenant
 * seeded with a few thousand rows has more than 1000 new ones per type: a window with an outside.
 */
export async function widenNewRows(report: SeedReport, user: CaseUser, adminUrl = pgAdminUrl()): Promise<void> {
  const client = await connect(urlForDatabase(adminUrl, report.databases.tenants[user]))
  try {
    for (const table of DATEN) {
      const mainId = table.replace('er_', 'id_').replace(/_daten$/, '')
      await client.query(`UPDATE ${table} SET transfer_arz = false WHERE ${mainId} % 10 <> 0`)
      await client.query(`UPDATE ${table.replace(/_daten$/, '_status')} SET rezept_status = 'GEPRUEFT' WHERE rezept_status = 'ABGERECHNET' AND ${mainId} % 10 <> 0`)
    }
  } finally {
    await client.end()
  }
}

/** `maxPageSize` of the simulator must be 500: page 1 and 2 are the window, page 3 lies beyond it. */
export async function uuidPools(simPort: number, report: SeedReport, adminUrl = pgAdminUrl()): Promise<Record<CaseUser, UuidPools>> {
  const pools = {} as Record<CaseUser, UuidPools>
  for (const user of ['gross', 'klein', 'leer'] as const) {
    const authorization = basicAuthorization(CASE_USERS[user].login, CASE_USERS[user].password)
    const page = async (type: string, n: number): Promise<string[]> => {
      const answer = await send(simPort, 'GET', `/v2/rezept?type=${type}&pageSize=500&page=${n}`, { authorization })
      if (answer.status !== 200) throw new Error(`list page ${n} of ${type} for ${user}: ${answer.status}`)
      return (JSON.parse(answer.body.toString('utf8')) as { prescriptions: Array<{ rezeptUuid: string }> }).prescriptions.map((p) => p.rezeptUuid)
    }
    const inside = {} as Record<(typeof TYPES)[number], string[]>
    const outside: string[] = []
    for (const type of TYPES) {
      const first = await page(type, 1)
      const second = await page(type, 2)
      // The window's first items and its last (positions 998, 999).
      inside[type] = [...first.slice(0, 2), ...second.slice(-2)]
      outside.push(...(await page(type, 3)).slice(0, 1))
    }
    const client = await connect(urlForDatabase(adminUrl, report.databases.tenants[user]))
    let old: string[]
    try {
      const rows = await client.query<{ rezept_uuid: string }>(
        `(SELECT rezept_uuid FROM er_senderezepte_emuster16_daten WHERE transfer_arz IS TRUE AND rezept_uuid IS NOT NULL ORDER BY 1 LIMIT 2)
         UNION ALL (SELECT d.rezept_uuid FROM er_senderezepte_erezept_daten d JOIN er_senderezepte_erezept_status s USING (id_senderezepte_erezept)
                     WHERE s.rezept_status = 'ABGERECHNET' AND d.rezept_uuid IS NOT NULL ORDER BY 1 LIMIT 2)`)
      old = rows.rows.map((r) => r.rezept_uuid)
    } finally {
      await client.end()
    }
    pools[user] = { inside, outside, old }
  }
  return pools
}
