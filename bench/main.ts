// `npm run bench -- <scenario...>`: runs the named benchmark scenarios one after another. Each lives
// in its own script under bench/ and can also be run alone (npm run bench:<name>).
import { spawn } from 'node:child_process'

const SCENARIOS: Record<string, { script: string; about: string }> = {
  'fast-path': { script: 'bench/fast-path.ts', about: 'the legacy simulator against the fast path on the 1M-row bench_ tenant' },
  passthrough: { script: 'bench/passthrough.ts', about: 'pass-through overhead: simulator direct, through the proxy, through nginx' },
}

function usage(): string {
  return `usage: npm run bench -- <scenario> [<scenario>...]\n` +
    Object.entries(SCENARIOS).map(([name, s]) => `  ${name.padEnd(12)} ${s.about}`).join('\n')
}

const names = process.argv.slice(2)
const unknown = names.filter((name) => !(name in SCENARIOS))
if (names.length === 0 || unknown.length > 0) {
  if (unknown.length > 0) console.error(`unknown scenario: ${unknown.join(', ')}`)
  console.error(usage())
  process.exit(2)
}
for (const name of names) {
  const code = await new Promise<number>((resolve) => {
    spawn(process.execPath, [SCENARIOS[name]!.script], { stdio: 'inherit' }).on('exit', (c) => resolve(c ?? 1))
  })
  if (code !== 0) process.exit(code)
}
