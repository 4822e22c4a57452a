import t from 'tap'
import { CliUsageError, DEFAULT_ADMIN_URL, DEFAULT_ROWS, parseCommandLine } from '../../sql/seed/cli-options.ts'
import { indexTable, readLegacySchema, splitLegacySchema } from '../../sql/seed/legacy-schema.ts'
import { bind, namedStatement } from '../../sql/seed/named-parameters.ts'
import { npgsqlConnectionString, serverAddressOf } from '../../sql/seed/tenant-connection-strings.ts'
import { progressDisplay } from '../../sql/seed/progress-display.ts'
import {
  redactedUrl, seed, SeedServerUnreachable, seedDatabaseNames, seedUserFor, validated, type SeedProgress,
} from '../../sql/seed/seed.ts'
import { EDGE_CASES, edgeRowId } from '../../sql/seed/seed.ts'

t.test('the command line defaults to 100000 rows, 5000 klein rows, prefix fastpath_, seed 1 and PG_ADMIN_URL', async (t) => {
  t.same(parseCommandLine([], {}), {
    kind: 'seed', options: { adminUrl: DEFAULT_ADMIN_URL, prefix: 'fastpath_', rows: DEFAULT_ROWS, kleinRows: 5000, seed: 1 },
  })
  t.same(parseCommandLine(['--rows=1000000', '--klein-rows', '300', '--prefix', 'bench_', '--seed', '-4'], { PG_ADMIN_URL: 'postgres://x@h/db' }), {
    kind: 'seed', options: { adminUrl: 'postgres://x@h/db', prefix: 'bench_', rows: 1_000_000, kleinRows: 300, seed: -4 },
  })
  t.same(parseCommandLine(['--rows', '9', '-h'], {}), { kind: 'help' })
  t.throws(() => parseCommandLine(['--rows', ''], {}), { code: 'SEED_USAGE', name: 'CliUsageError', message: '--rows needs a value' })
  t.ok(new CliUsageError('x') instanceof Error)
})

t.test('seed() refuses bad options before touching any database', async (t) => {
  const ok = { adminUrl: DEFAULT_ADMIN_URL, prefix: 'p_', rows: 300 }
  t.throws(() => validated({ ...ok, prefix: '1x' }), RangeError)
  t.throws(() => validated({ ...ok, prefix: 'a;drop' }), RangeError)
  t.throws(() => validated({ ...ok, rows: 299 }), RangeError)
  t.throws(() => validated({ ...ok, rows: 1.5 }), RangeError)
  t.throws(() => validated({ ...ok, kleinRows: 100_000_001 }), RangeError)
  t.throws(() => validated({ ...ok, seed: 2 ** 41 }), RangeError)
  t.throws(() => validated({ ...ok, adminUrl: 'http://host/db' }), RangeError)
  t.throws(() => validated({ ...ok, adminUrl: 'not a url' }), RangeError)
  t.same(validated({ ...ok, rows: 0 }), { ...ok, rows: 0, kleinRows: 5000, seed: 1 })
  await t.rejects(seed({ ...ok, rows: 5 }), RangeError)
})

t.test('seed() names the unreachable server with its password hidden', async (t) => {
  const error = await seed({ adminUrl: 'postgres://u:pw@127.0.0.1:1/postgres', prefix: 't_seed_none_', rows: 0 }).catch((e: unknown) => e)
  t.ok(error instanceof SeedServerUnreachable)
  t.match((error as Error).message, 'postgres://u:***@127.0.0.1:1/postgres')
  t.equal((error as SeedServerUnreachable).code, 'SEED_SERVER_UNREACHABLE')
  t.equal(redactedUrl('::'), '(an unparsable URL)')
  t.equal(redactedUrl('postgres://u@h/d'), 'postgres://u@h/d')
})

t.test('the database names and users are fixed per prefix and tenant', async (t) => {
  t.same(seedDatabaseNames('bench_'), {
    arzsw: 'bench_arzsw', tenants: { gross: 'bench_apoti_gross', klein: 'bench_apoti_klein', leer: 'bench_apoti_leer' },
  })
  t.equal(seedDatabaseNames().arzsw, 'fastpath_arzsw')
  t.equal(seedUserFor('klein').password, 'klein-Geheim2')
  t.throws(() => seedUserFor('nobody' as never))
  t.equal(edgeRowId(1000, 0), 999, 'the first edge row sits just below the newest id')
  t.ok(EDGE_CASES.every((edge, i) => edgeRowId(40, i) >= 1), 'all edge rows fit a type of 40 rows')
})

t.test('connection strings quote what needs quoting and leave out an empty password', async (t) => {
  const server = serverAddressOf('postgres://us%20er:p%3Bw%22d@[::1]:6543/postgres')
  t.same(server, { host: '::1', port: 6543, user: 'us er', password: 'p;w"d' })
  t.equal(npgsqlConnectionString('gross', server, 'db1'), 'Host=::1;Port=6543;Database=db1;Username=us er;Password="p;w""d"')
  t.equal(npgsqlConnectionString('klein', server, 'db2'), 'Server=::1;Port=6543;Database=db2;User ID=us er;Pwd="p;w""d";Maximum Pool Size=20')
  t.equal(npgsqlConnectionString('leer', server, 'db3'), 'host=::1;port=6543;database="db3";user id=us er;password="p;w""d"')
  const trust = serverAddressOf('postgres://127.0.0.1/postgres')
  t.same(trust, { host: '127.0.0.1', port: 5432, user: 'postgres', password: '' })
  t.equal(npgsqlConnectionString('gross', trust, 'd'), 'Host=127.0.0.1;Port=5432;Database=d;Username=postgres')
  t.equal(npgsqlConnectionString('gross', { ...trust, user: ' lead' }, 'd'), 'Host=127.0.0.1;Port=5432;Database=d;Username=" lead"')
})

t.test('the legacy schema splits into tables first and indexes after, and rejects anything else', async (t) => {
  const apoti = await readLegacySchema('apoti')
  t.equal(apoti.tables.length, 17)
  t.equal(apoti.indexes.length, 28)
  t.equal(apoti.serialColumns.er_apotheke, 'id_apotheke')
  t.equal(indexTable(apoti.indexes[0]!), 'er_apotheke')
  t.throws(() => splitLegacySchema('CREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql;'), /unexpected statement/)
  t.throws(() => indexTable('CREATE INDEX broken'), /no table/)
})

t.test('named parameters become typed positional ones, but not inside string literals', async (t) => {
  const statement = namedStatement("SELECT @a + @b + @a, 'mail@example.de', 'it''s @c'")
  t.equal(statement.text, "SELECT ($1::int8) + ($2::int8) + ($1::int8), 'mail@example.de', 'it''s @c'")
  t.same(bind(statement, { a: 1, b: 2n }).values, [1, '2'])
  t.throws(() => bind(statement, { a: 1 }), /no value for @b/)
})

t.test('on a terminal the progress is one redrawn bar; elsewhere it is plain lines per phase and tenth', async (t) => {
  let clock = 0
  const progress = (done: number, phase: SeedProgress['phase'] = 'load'): SeedProgress =>
    ({ phase, tenant: phase === 'done' ? null : 'gross', label: 'eMuster16 daten', done, total: 200 })
  const tty: string[] = []
  const bar = progressDisplay({ isTTY: true, columns: 80, write: (s) => tty.push(s) > 0 }, () => clock)
  bar.update(progress(50))
  clock += 10
  bar.update(progress(60)) // within the redraw interval: skipped
  clock += 200
  bar.update(progress(100))
  bar.update(progress(200, 'done'))
  bar.finish()
  t.equal(tty.length, 4)
  t.match(tty[0], /^\r\[#{8}\.{22}\]  25 % 0\.0 s  gross: eMuster16 daten/)
  t.equal(tty[0]!.length, 80, 'padded to the terminal width less one')
  t.equal(tty.at(-1), '\n')

  const lines: string[] = []
  const plain = progressDisplay({ write: (s) => lines.push(s) > 0 }, () => 0)
  for (const done of [0, 5, 10, 25, 30, 200]) plain.update(progress(done))
  plain.update({ ...progress(0), total: 0 })
  plain.finish()
  t.same(lines, [
    'seed:   0 % after 0.0 s: gross: eMuster16 daten\n',
    'seed:  12 % after 0.0 s: gross: eMuster16 daten\n',
    'seed: 100 % after 0.0 s: gross: eMuster16 daten\n',
    'seed:   0 % after 0.0 s: gross: eMuster16 daten\n',
  ])
})

t.test('a failing step stops the chains and names the step', async (t) => {
  const { runChains } = await import('../../sql/seed/chain-runner.ts')
  const { connect } = await import('../../sql/seed/database-setup.ts')
  const { pgAdminUrl } = await import('../../dev/services.ts')
  const clients = [await connect(pgAdminUrl()), await connect(pgAdminUrl())]
  const done: string[] = []
  const step = (label: string, text: string) => ({ label, weight: 1, statements: [{ text, values: [] }] })
  try {
    await t.rejects(
      runChains(clients, [[step('fine', 'SELECT 1'), step('broken', 'SELECT no_such_column')], [step('slow', 'SELECT pg_sleep(0.2)'), step('never', 'SELECT 2')]],
        (task) => done.push(task.label)),
      { message: /seeding step "broken" failed: column "no_such_column" does not exist/ },
    )
    t.notOk(done.includes('never'), 'the other chain does not start its next step')
    t.ok(done.includes('fine'))
  } finally {
    await Promise.all(clients.map((c) => c.end()))
  }
})
