// The k6 scripts type-check against @types/k6 (k6 itself is not installed here), and each scenario of
// bench/scenarios.json has its script, so the load scripts and `npm run bench` cannot drift apart.
import { spawnSync } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import type { ScenarioFile } from '../../bench/scenario-model.ts'

const ROOT = new URL('../../', import.meta.url).pathname

t.test('tsc -p k6 --noEmit passes', async (t) => {
  // In an emptied environment: tap's coverage hooks, which it adds to the environment of every child,
  // cannot load TypeScript 7's ES-module tsc.
  const command = `exec env -i PATH="$PATH" '${process.execPath}' '${join(ROOT, 'node_modules/typescript/bin/tsc')}' -p k6 --noEmit`
  const result = spawnSync('sh', ['-c', command], { cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } })
  t.equal(result.status, 0, `${result.stdout}${result.stderr}`)
})

t.test('one k6 script per scenario, each reading its scenario from bench/scenarios.json', async (t) => {
  const file = JSON.parse(await readFile(join(ROOT, 'bench/scenarios.json'), 'utf8')) as ScenarioFile
  const scripts = (await readdir(join(ROOT, 'k6'))).filter((name) => name.endsWith('.ts')).map((name) => name.slice(0, -3)).sort()
  t.same(scripts, file.scenarios.map((s) => s.id).sort())
  for (const spec of file.scenarios) {
    const script = await readFile(join(ROOT, 'k6', `${spec.id}.ts`), 'utf8')
    t.match(script, `scenarioOf(file, '${spec.id}')`, `${spec.id}.ts runs its own scenario`)
    t.match(script, "open('../bench/scenarios.json')", `${spec.id}.ts reads the shared file`)
    t.ok(Object.keys(spec.k6.thresholds).length > 0, `${spec.id} has k6 thresholds`)
  }
})
