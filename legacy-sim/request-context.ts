// What a route handler of the simulator receives: the exchange, its bound query, the tenant's pool and the settings.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type pg from 'pg'

export interface SimulatorSettings {
  /** docs/legacy-contract.md §4: the service's MaxPageSize (500 unless configured). */
  maxPageSize: number
  /** docs/legacy-contract.md §4: the service's Environment setting, echoed in v2 list answers. */
  environment: string
  /** The legacy host's time zone (IANA): "today" in status_abfrage_datum and aen_datum is its date. */
  timeZone: string
}

export interface RouteRequest {
  req: IncomingMessage
  res: ServerResponse
  /** Lower-cased query names, first value of each (docs/legacy-contract.md §3). */
  query: Map<string, string>
  /** Path parameters captured by the route table (e.g. an Apotheke id), as written in the URL. */
  pathParameters: readonly string[]
  settings: SimulatorSettings
  /** The authenticated tenant's pool; the management pool for anonymous routes. */
  db: pg.Pool
}

export type RouteHandler = (request: RouteRequest) => Promise<void>
