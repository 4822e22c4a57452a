import { spawn } from 'node:child_process'
import t from 'tap'
import { seedDatabaseNames } from '../../sql/seed/seed.ts'
import { pgAdminUrl } from '../../dev/services.ts'
import { dropSeeded, openDatabase } from './seeded-databases.ts'
import { freePort } from '../../proxy/listen.ts'

const MAIN = new URL('../../sql/seed/main.ts', import.meta.url).pathname
const PREFIX = 't_seed_cli_'

function runSeed(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, PG_ADMIN_URL: pgAdminUrl(), ...env } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

t.teardown(() => dropSeeded(PREFIX))

for (const [args, message] of [
  [['--rows', 'abc'], '--rows must be an integer, got "abc"'],
  [['--rows', '1.5'], '--rows must be an integer'],
  [['--bogus'], 'unknown option "--bogus"'],
  [['--seed'], '--seed needs a value'],
  [['--rows=1000', '--rows=2000'], '--rows given twice'],
  [['--rows', '5'], 'rows must be 0 or an integer from 300'],
  [['--klein-rows', '-1'], 'kleinRows must be 0 or an integer from 300'],
  [['--prefix', 'Bad-Name'], 'prefix must be lower-case letters'],
] as const) {
  t.test(`bad options (${args.join(' ')}) exit with code 2 and say what is wrong`, async (t) => {
    const result = await runSeed([...args])
    t.equal(result.code, 2)
    t.match(result.stderr, message)
    t.match(result.stderr, 'Usage: npm run seed -- [options]', 'and show the usage')
  })
}

t.test('--help prints the usage and exits 0', async (t) => {
  const result = await runSeed(['--help'])
  t.equal(result.code, 0)
  t.match(result.stdout, /Usage: npm run seed.*--rows N.*--klein-rows N.*--prefix P.*--seed S/s)
  t.match(result.stdout, 'arz-klein / klein-Geheim2')
})

t.test('an unreachable server exits 1 naming the URL with its password hidden', async (t) => {
  const port = await freePort()
  const result = await runSeed(['--rows', '300', '--prefix', PREFIX], { PG_ADMIN_URL: `postgres://seeder:s3cret-pw@127.0.0.1:${port}/postgres` })
  t.equal(result.code, 1)
  t.match(result.stderr, `cannot connect to PostgreSQL at postgres://seeder:***@127.0.0.1:${port}/postgres`)
  t.match(result.stderr, 'ECONNREFUSED')
  t.notMatch(result.stderr, 's3cret-pw', 'the password is never printed')
})

t.test('a run into a pipe prints plain progress lines and a summary, and the data is there', async (t) => {
  const result = await runSeed(['--rows', '300', '--klein-rows', '0', '--prefix', PREFIX, '--seed', '3'])
  t.equal(result.code, 0, result.stderr)
  t.match(result.stderr, /^seed: +0 % after [\d.]+ s: creating databases$/m)
  t.match(result.stderr, /^seed: 100 % after [\d.]+ s: done$/m)
  t.notMatch(result.stderr, '\r', 'no carriage returns when stderr is not a terminal')
  t.match(result.stdout, `${PREFIX}apoti_gross: eMuster16 180 (new `)
  const klein = await openDatabase(seedDatabaseNames(PREFIX).tenants.klein)
  try {
    const rows = await klein.query<{ n: number }>('SELECT count(*)::int AS n FROM er_senderezepte_emuster16')
    t.equal(rows.rows[0]!.n, 0, '--klein-rows 0 leaves klein empty')
  } finally {
    await klein.end()
  }
})
