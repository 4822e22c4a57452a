// Parses the seeder's command line (`npm run seed -- [options]`) into SeedOptions, or says what is
// wrong with it; the usage text lives here too.
import { DEFAULT_KLEIN_ROWS, DEFAULT_SEED, MAX_ROWS, MIN_ROWS, type SeedOptions } from './seed.ts'
import { DEFAULT_PREFIX } from './tenants.ts'

export const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres'
export const DEFAULT_ROWS = 100_000

export const USAGE = `Usage: npm run seed -- [options]

(Re)creates <prefix>arzsw, <prefix>apoti_gross, <prefix>apoti_klein and <prefix>apoti_leer on the
PostgreSQL server named by PG_ADMIN_URL (default ${DEFAULT_ADMIN_URL}; a superuser)
and fills them with deterministic test data. Existing databases of those names are DROPPED.

Options:
  --rows N        prescriptions in the gross tenant (default ${DEFAULT_ROWS}; 1000000 for benchmarks)
  --klein-rows N  prescriptions in the klein tenant (default ${DEFAULT_KLEIN_ROWS})
                  (N is 0 or ${MIN_ROWS} to ${MAX_ROWS}; the leer tenant always has none)
  --prefix P      database name prefix (default ${DEFAULT_PREFIX}; lower-case letters, digits, _)
  --seed S        integer; the same options and seed give identical rows (default ${DEFAULT_SEED})
  -h, --help      this text

Users: arz-gross / gross-Geheim1 (BCrypt 10), arz-klein / klein-Geheim2 (plain text),
       arz-leer / leer-Geheim3 (BCrypt 12).
Exit codes: 0 done, 1 the server failed or could not be reached, 2 bad options.`

export type CliCommand = { kind: 'help' } | { kind: 'seed'; options: SeedOptions }

export class CliUsageError extends Error {
  override readonly name = 'CliUsageError'
  readonly code = 'SEED_USAGE'
}

const VALUE_OPTIONS = ['--rows', '--klein-rows', '--prefix', '--seed'] as const
type ValueOption = (typeof VALUE_OPTIONS)[number]

export function parseCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv): CliCommand {
  const given = new Map<ValueOption, string>()
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '-h' || arg === '--help') return { kind: 'help' }
    const eq = arg.indexOf('=')
    const name = (eq > 0 ? arg.slice(0, eq) : arg) as ValueOption
    if (!VALUE_OPTIONS.includes(name)) throw new CliUsageError(`unknown option "${arg}"`)
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i]
    if (value === undefined || value === '') throw new CliUsageError(`${name} needs a value`)
    if (given.has(name)) throw new CliUsageError(`${name} given twice`)
    given.set(name, value)
  }
  return {
    kind: 'seed',
    options: {
      adminUrl: env.PG_ADMIN_URL || DEFAULT_ADMIN_URL,
      prefix: given.get('--prefix') ?? DEFAULT_PREFIX,
      rows: integer('--rows', given.get('--rows'), DEFAULT_ROWS),
      kleinRows: integer('--klein-rows', given.get('--klein-rows'), DEFAULT_KLEIN_ROWS),
      seed: integer('--seed', given.get('--seed'), DEFAULT_SEED),
    },
  }
}

function integer(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback
  if (!/^-?\d{1,15}$/.test(text)) throw new CliUsageError(`${name} must be an integer, got "${text}"`)
  return Number(text)
}
