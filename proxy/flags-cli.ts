// `npm run flags -- list | set ROUTE MODE [--admin URL] [--json]`: the admin API's flags for an
// operator's shell and for scripts. Human lines by default, the API's JSON with --json; exit 0 done,
// 1 refused or failed (also: a change Redis did not take), 2 usage. Token from FASTPATH_ADMIN_TOKEN.
import { isRouteId, parseFlagText, flagText, type FlagSetting } from '../core/flag-setting.ts'
import { ROUTE_IDS } from '../routes/contract.ts'

const USAGE = `usage: npm run flags -- list [--admin URL] [--json]
       npm run flags -- set ROUTE MODE [--admin URL] [--json]
  ROUTE  ${ROUTE_IDS.join(' | ')}
  MODE   off | shadow | on | canary:<0-100>
  --admin  the admin listener (default http://127.0.0.1:$ADMIN_PORT, 9091); token from FASTPATH_ADMIN_TOKEN
  --json   print the admin API's JSON answer instead of lines (for scripts)
exit: 0 done, 1 refused or failed, 2 usage`

export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>
  out(line: string): void
  err(line: string): void
}

interface SetAnswer {
  readonly routeId: string
  readonly from: FlagSetting
  readonly flag: FlagSetting
  readonly changed: boolean
  readonly propagated: boolean
  readonly instances: string
}

/** Runs one command; resolves to the exit code. */
export async function runFlagsCli(args: readonly string[], io: CliIo): Promise<number> {
  const positional: string[] = []
  let admin = io.env.FASTPATH_ADMIN_URL || `http://127.0.0.1:${io.env.ADMIN_PORT || '9091'}`
  let json = false
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg === '--json') json = true
    else if (arg === '--admin') {
      const value = args[++i]
      if (value === undefined) return usage(io, '--admin needs a URL')
      admin = value
    } else if (arg.startsWith('--admin=')) admin = arg.slice('--admin='.length)
    else if (arg === '--help' || arg === '-h') {
      io.out(USAGE)
      return 0
    }
    else if (arg.startsWith('-')) return usage(io, `unknown option ${arg}`)
    else positional.push(arg)
  }
  try {
    new URL(admin)
  } catch {
    return usage(io, `--admin: "${admin}" is not a URL`)
  }
  admin = admin.replace(/\/+$/, '')
  const headers: Record<string, string> = { 'x-admin-user': `${io.env.USER || 'operator'} (flags cli)` }
  if (io.env.FASTPATH_ADMIN_TOKEN) headers.authorization = `Bearer ${io.env.FASTPATH_ADMIN_TOKEN}`

  const [command, ...rest] = positional
  if (command === 'list' && rest.length === 0) {
    const answer = await call(io, `${admin}/flags`, { headers })
    if (answer === undefined) return 1
    if (answer.status !== 200) return refused(io, json, answer)
    if (json) io.out(JSON.stringify(answer.body))
    else for (const [routeId, flag] of Object.entries(answer.body as Record<string, FlagSetting>)) io.out(`${routeId.padEnd(20)} ${flagText(flag)}`)
    return 0
  }
  if (command === 'set' && rest.length === 2) {
    const [routeId, modeText] = rest as [string, string]
    if (!isRouteId(routeId)) return usage(io, `unknown route "${routeId}"; accepted: ${ROUTE_IDS.join(', ')}`)
    const flag = parseFlagText(modeText)
    if (!flag.ok) return usage(io, `mode "${modeText}": ${flag.message}`)
    const answer = await call(io, `${admin}/flags/${encodeURIComponent(routeId)}`, { method: 'PUT', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(flag.value) })
    if (answer === undefined) return 1
    if (answer.status !== 200) return refused(io, json, answer)
    const set = answer.body as SetAnswer
    // Redis configured but it did not take the change: the other instances do not have it.
    const everywhere = set.propagated || set.instances.includes('no Redis')
    if (json) io.out(JSON.stringify(set))
    else {
      io.out(`${set.routeId}: ${flagText(set.from)} -> ${flagText(set.flag)}${set.changed ? '' : ' (it already was)'}`)
      io.out(`taken by ${set.instances}${set.instances.includes('no Redis') ? '; set it on each instance' : ''}`)
    }
    return everywhere ? 0 : 1
  }
  return usage(io, command === undefined ? 'a command is needed' : `"${positional.join(' ')}" is not a command`)
}

function usage(io: CliIo, problem: string): number {
  io.err(`${problem}\n${USAGE}`)
  return 2
}

function refused(io: CliIo, json: boolean, answer: { status: number; body: unknown }): number {
  const error = (answer.body as { error?: unknown } | undefined)?.error
  if (json) io.out(JSON.stringify({ status: answer.status, ...(answer.body as object) }))
  else io.err(`refused (${answer.status}): ${typeof error === 'string' ? error : JSON.stringify(answer.body)}`)
  return 1
}

async function call(io: CliIo, url: string, init: RequestInit): Promise<{ status: number; body: unknown } | undefined> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) })
    const text = await res.text()
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      body = { error: text.slice(0, 200) }
    }
    return { status: res.status, body }
  } catch (error) {
    io.err(`the admin API at ${new URL(url).origin} did not answer: ${(error as Error & { cause?: Error }).cause?.message ?? (error as Error).message}`)
    return undefined
  }
}

if (import.meta.main) {
  const code = await runFlagsCli(process.argv.slice(2), { env: process.env, out: (line) => console.log(line), err: (line) => console.error(line) })
  process.exit(code)
}
