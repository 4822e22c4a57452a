// The command line of `npm run compare`, parsed into typed options; a wrong option is named with usage.

export interface CompareArgs {
  readonly proxy?: string
  readonly admin?: string
  readonly adminToken?: string
  readonly requests?: string
  /** What the report calls the legacy (`--legacy-name`): its Server header cannot tell ArzTi3Server from the simulator. */
  readonly legacyName?: string
  readonly users: readonly string[]
  readonly out: string
  readonly rounds: number
  readonly cold: boolean
  readonly help: boolean
}

export const USAGE = `npm run compare [-- options]
  (no options)            start the embedded demo (PostgreSQL, seeded data, legacy simulator, proxy) and compare against it
  --proxy URL             a running proxy's client listener
  --admin URL             its admin listener: flags are flipped off (legacy) and on (fast), then put back
                          (without it, answers are filed under the path their Server-Timing names)
  --admin-token TOKEN     bearer token of the admin API (default: FASTPATH_ADMIN_TOKEN)
  --requests FILE         JSON request list ({"requests":[{"target":"/v2/rezept?pageSize=10","user":"login:pw"}]});
                          an entry may be a read with a body: {"method":"PATCH","target":"/v2/rezept/statusuuid","body":{...}};
                          default: the built-in ARZ polling mix
  --legacy-name NAME      what the report calls the proxy's upstream, e.g. "ArzTi3Server 8.0 (staging)"
                          (default: "the legacy simulator" for the demo, "the proxy's upstream" otherwise; both
                          send Server: Kestrel, so the answers cannot tell)
  --user LOGIN:PASSWORD   Basic credentials (repeatable; required with --proxy unless the file names users)
  --rounds N              times each request is sent per pass (default 20)
  --no-cold               skip the cold-cache pass (it voids the users' cached answers with a no-op status write)
  --out DIR               where report.html and report.json go (default docs/compare)`

export class UsageError extends Error {}

export function parseCompareArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): CompareArgs {
  const values: Record<string, string> = {}
  const users: string[] = []
  let cold = true
  let help = false
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--help' || arg === '-h') help = true
    else if (arg === '--no-cold') cold = false
    else if (['--proxy', '--admin', '--admin-token', '--requests', '--legacy-name', '--user', '--out', '--rounds'].includes(arg)) {
      const value = argv[++i]
      if (value === undefined || value.startsWith('--')) throw new UsageError(`${arg} needs a value`)
      if (arg === '--user') {
        if (!value.includes(':')) throw new UsageError('--user takes login:password')
        users.push(value)
      } else values[arg] = value
    } else throw new UsageError(`unknown option "${arg}"`)
  }
  const rounds = values['--rounds'] === undefined ? 20 : Number(values['--rounds'])
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 100_000) throw new UsageError(`--rounds must be an integer from 1 to 100000, got ${values['--rounds']}`)
  for (const name of ['--proxy', '--admin']) {
    const url = values[name]
    if (url !== undefined && !/^https?:\/\/[^/]+/.test(url)) throw new UsageError(`${name} must be an http:// URL, got ${url}`)
  }
  if (values['--admin'] !== undefined && values['--proxy'] === undefined) throw new UsageError('--admin needs --proxy')
  const adminToken = values['--admin-token'] ?? env.FASTPATH_ADMIN_TOKEN
  return {
    ...(values['--proxy'] !== undefined ? { proxy: values['--proxy'].replace(/\/$/, '') } : {}),
    ...(values['--admin'] !== undefined ? { admin: values['--admin'] } : {}),
    ...(adminToken ? { adminToken } : {}),
    ...(values['--requests'] !== undefined ? { requests: values['--requests'] } : {}),
    ...(values['--legacy-name'] !== undefined ? { legacyName: values['--legacy-name'] } : {}),
    users,
    out: values['--out'] ?? 'docs/compare',
    rounds,
    cold,
    help,
  }
}
