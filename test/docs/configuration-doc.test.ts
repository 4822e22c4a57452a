// docs/configuration.md is what `npm run docs:config` generates from the option table and the
// fast-path settings: a new or changed option without a regenerated page fails here.
import { readFile } from 'node:fs/promises'
import t from 'tap'
import { CONFIGURATION_DOC, configurationMarkdown } from '../../config/docs.ts'
import { OPTIONS } from '../../config/schema.ts'

t.test('the checked-in docs/configuration.md equals what the generator writes (run `npm run docs:config`)', async (t) => {
  const checkedIn = await readFile(CONFIGURATION_DOC, 'utf8')
  const generated = configurationMarkdown()
  if (checkedIn !== generated) {
    const a = checkedIn.split('\n')
    const b = generated.split('\n')
    const line = a.findIndex((text, i) => text !== b[i])
    t.fail(`docs/configuration.md is out of date from line ${line + 1}: has ${JSON.stringify(a[line])}, the generator writes ${JSON.stringify(b[line])}`)
  } else t.pass('up to date')
})

t.test('the generated page names every option, env variable and fast-path setting', async (t) => {
  const page = configurationMarkdown()
  for (const spec of OPTIONS) {
    t.ok(page.includes(`| \`${spec.name}\` |`), `${spec.name} has a row`)
    if (spec.env) t.ok(page.includes(`\`${spec.env}\``), `${spec.env} is named`)
  }
  const fastPath = OPTIONS.filter((o) => o.name.startsWith('fastPath.'))
  t.ok(fastPath.length > 20, 'the fast-path settings are options of the table')
  for (const spec of fastPath) t.ok(page.includes(`| \`${spec.name}\` |`), `${spec.name} has a row`)
})
