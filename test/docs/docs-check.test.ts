// The docs' own check: every command and config snippet in docs/, README and deploy/ is parsed, loaded
// or run, so the operator's documentation cannot rot silently. Snippets marked `<!-- docs-check: run -->`
// in docs/operations.md are run with bash against a running proxy.
import { execFile, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import t from 'tap'
import { parseFlagSetting } from '../../core/flag-setting.ts'
import { parseAllDocuments } from 'yaml'
import { OTHER_ENV } from '../../config/docs.ts'
import { loadConfig } from '../../config/load.ts'
import { OPTIONS } from '../../config/schema.ts'
import { PROXY_ERRORS } from '../../core/errors.ts'
import { fastPathSettingsFrom } from '../../config/fast-path.ts'
import { startEchoUpstream } from '../proxy/support/echo-upstream.ts'
import { proxyFor } from '../proxy/support/proxy-under-test.ts'

const ROOT = resolve(new URL('../../', import.meta.url).pathname)
const read = (path: string) => readFile(join(ROOT, path), 'utf8')

/** The docs written for operators: every env var and option they name must exist. */
const OPERATOR_DOCS = ['docs/operations.md', 'docs/deployment.md', 'docs/migration.md', 'docs/configuration.md', 'README.md']

async function markdownFiles(): Promise<string[]> {
  const docs = (await readdir(join(ROOT, 'docs'))).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)
  return [...docs, 'README.md']
}

async function deployFiles(): Promise<string[]> {
  const entries = await readdir(join(ROOT, 'deploy'), { recursive: true })
  return entries.map((e) => `deploy/${e}`).filter((p) => /\.[a-z]+$/.test(p)).sort()
}

interface Block {
  readonly file: string
  readonly line: number
  readonly lang: string
  readonly text: string
  /** The `<!-- docs-check: … -->` marker right above the block, if any. */
  readonly marker: string | undefined
}

function codeBlocks(file: string, markdown: string): Block[] {
  const blocks: Block[] = []
  const lines = markdown.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]!)
    if (!open) continue
    const start = i
    const body: string[] = []
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!)
    const above = lines.slice(Math.max(0, start - 2), start).join('\n')
    const marker = /<!-- docs-check: ([^>]*?) -->/.exec(above)?.[1]
    blocks.push({ file, line: start + 1, lang: open[1]!, text: body.join('\n'), marker })
  }
  return blocks
}

/** Markdown text without its code blocks (prose and inline code). */
function prose(markdown: string): string {
  return markdown.replace(/^```[^\n]*\n[\s\S]*?^```\s*$/gm, '')
}

const SCHEMA_ENV = new Set(OPTIONS.flatMap((o) => (o.env ? [o.env] : [])))
const KNOWN_ENV = new Set([...SCHEMA_ENV, ...Object.keys(OTHER_ENV)])
/** ALL_CAPS words in the docs that are not environment variables. */
const NOT_ENV = new Set([
  ...Object.keys(PROXY_ERRORS),
  // the legacy simulator's own variable (README), not the proxy's
  'LEGACY_MAX_PAGE_SIZE',
  // change-feed error codes (cache-cdc.md), PostgreSQL and HTTP words
  'CDC_STREAM_BROKEN', 'CDC_SERVER_SILENT', 'CDC_PUBLICATION_MISSING', 'CDC_UNAVAILABLE',
  'NOEXPORT_SNAPSHOT', 'CREATE_REPLICATION_SLOT', 'START_REPLICATION', 'X_FORWARDED_FOR',
  'ARZ_USER', 'ARZ_PASSWORD', 'ARZ_TI', 'HMAC_SHA256', 'AF_INET', 'AF_INET6', 'AF_UNIX',
])

function envNames(text: string): Set<string> {
  return new Set(text.match(/\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g) ?? [])
}

const TOP_LEVEL = new Set(OPTIONS.map((o) => o.name.split('.')[0]!))
const OPTION_NAMES = new Set(OPTIONS.map((o) => o.name))

/** Validates a config-file snippet as `config/production.json` would be, fast-path settings included. */
async function loadsAsConfig(snippet: Record<string, unknown>, env: Record<string, string> = {}): Promise<string | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'docs-config-'))
  try {
    await writeFile(join(dir, 'production.json'), JSON.stringify(snippet))
    const config = loadConfig({ env: { FASTPATH_ENV: 'production', ...env }, directory: dir })
    fastPathSettingsFrom({ ...config, arzswUrl: config.arzswUrl ?? 'postgres://docs@127.0.0.1/arzsw' })
    return undefined
  } catch (error) {
    return (error as Error).message
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** GitHub's heading anchors: lower case, punctuation dropped, blanks to hyphens. */
function anchors(markdown: string): Set<string> {
  const result = new Set<string>()
  for (const line of prose(markdown).split('\n')) {
    const heading = /^#{1,6}\s+(.*)$/.exec(line)
    if (!heading) continue
    result.add(heading[1]!.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-'))
  }
  return result
}

t.test('every ```json block in the docs parses, and config snippets load as a valid configuration', async (t) => {
  for (const file of await markdownFiles()) {
    for (const block of codeBlocks(file, await read(file)).filter((b) => b.lang === 'json')) {
      let value: unknown
      try {
        value = JSON.parse(block.text)
      } catch (error) {
        t.fail(`${file}:${block.line}: not JSON (${(error as Error).message})`)
        continue
      }
      const keys = typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.keys(value) : []
      if (keys.length > 0 && keys.every((k) => TOP_LEVEL.has(k))) {
        const problem = await loadsAsConfig(value as Record<string, unknown>)
        t.equal(problem, undefined, `${file}:${block.line}: the config snippet is a valid configuration`)
      } else t.pass(`${file}:${block.line}: JSON parses`)
    }
  }
})

t.test('every ```yaml block in the docs and every YAML file under deploy/ parses', async (t) => {
  const sources: Array<[string, string]> = []
  for (const file of await markdownFiles()) {
    for (const block of codeBlocks(file, await read(file)).filter((b) => b.lang === 'yaml' || b.lang === 'yml')) sources.push([`${file}:${block.line}`, block.text])
  }
  for (const file of (await deployFiles()).filter((f) => /\.ya?ml$/.test(f))) sources.push([file, await read(file)])
  t.ok(sources.length >= 5, 'the Kubernetes manifests are among them')
  for (const [where, text] of sources) {
    const errors = parseAllDocuments(text).flatMap((d) => ('errors' in d ? d.errors : []))
    t.same(errors.map((e) => e.message), [], `${where} parses`)
  }
})

t.test('the Kubernetes manifests: ≥ 2 replicas, readiness /readyz and liveness /healthz on the admin port, a PDB, a Service, env that loads', async (t) => {
  const docs = new Map<string, Record<string, any>>()
  for (const file of (await deployFiles()).filter((f) => f.startsWith('deploy/k8s/'))) {
    for (const doc of parseAllDocuments(await read(file))) {
      const value = doc.toJS() as Record<string, any>
      if (value?.kind) docs.set(value.kind, value)
    }
  }
  const deployment = docs.get('Deployment')!
  t.ok(deployment, 'a Deployment')
  t.ok(deployment.spec.replicas >= 2, 'at least two replicas')
  const container = deployment.spec.template.spec.containers[0]
  const ports = Object.fromEntries(container.ports.map((p: { name: string; containerPort: number }) => [p.name, p.containerPort]))
  const defaults = Object.fromEntries(OPTIONS.map((o) => [o.name, o.default]))
  t.equal(ports.http, defaults.port, 'the http port is the proxy\'s port')
  t.equal(ports.admin, defaults['admin.port'], 'the admin port is the proxy\'s admin port')
  t.same(container.readinessProbe.httpGet, { path: '/readyz', port: 'admin' }, 'readiness on /readyz')
  t.same(container.livenessProbe.httpGet, { path: '/healthz', port: 'admin' }, 'liveness on /healthz')
  t.ok(deployment.spec.template.spec.securityContext.runAsNonRoot, 'non-root')
  const pdb = docs.get('PodDisruptionBudget')
  t.same(pdb?.spec.selector, deployment.spec.selector, 'the PodDisruptionBudget selects the Deployment\'s pods')
  const service = docs.get('Service')
  t.same(service?.spec.selector, deployment.spec.selector.matchLabels, 'the Service selects them too')
  t.equal(service?.spec.ports[0].targetPort, 'http')
  const secret = docs.get('Secret')
  t.equal(container.envFrom[0].secretRef.name, secret?.metadata.name, 'env comes from the example Secret')
  const env: Record<string, string> = { ...secret?.stringData }
  for (const entry of container.env) env[entry.name] = entry.value
  for (const name of Object.keys(env)) t.ok(KNOWN_ENV.has(name), `${name} is an environment variable the proxy reads`)
  t.equal(await loadsAsConfig(JSON.parse(await read('config/production.json')), env), undefined, 'the pod\'s environment is a valid production configuration')
  t.ok(deployment.spec.template.spec.terminationGracePeriodSeconds * 1000 > loadConfig({ env }).shutdownGraceMs, 'the grace period outlasts the drain')
})

t.test('the systemd unit passes systemd-analyze verify and runs what npm start runs, with an environment file that loads', async (t) => {
  const unit = await read('deploy/systemd/arzti-fastpath.service')
  const scripts = JSON.parse(await read('package.json')).scripts as Record<string, string>
  const execStart = /^ExecStart=(\S+) (.*)$/m.exec(unit)
  t.ok(execStart, 'an ExecStart line')
  // The script `exec`s node so that signals sent to npm reach it; the command is what follows.
  t.equal(`${execStart![1]!.split('/').pop()} ${execStart![2]}`, scripts.start!.replace(/^exec /, ''), 'ExecStart is the start script\'s command')
  const envFile = /^EnvironmentFile=(.*)$/m.exec(unit)![1]!
  const docs = await read('docs/deployment.md')
  t.ok(docs.includes(`deploy/systemd/arzti-fastpath.env ${envFile}`), `deployment.md installs the environment file where the unit reads it (${envFile})`)
  const env = Object.fromEntries((await read('deploy/systemd/arzti-fastpath.env')).split('\n').filter((l) => /^[A-Z]/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
  for (const name of Object.keys(env)) t.ok(KNOWN_ENV.has(name), `${name} is an environment variable the proxy reads`)
  t.doesNotThrow(() => loadConfig({ env }), 'the environment file is a valid configuration')
  // Missing is a failure, not a skip: an unverified unit proves nothing (.ci/tools installs it in CI).
  if (spawnSync('systemd-analyze', ['--version']).error) {
    t.fail('systemd-analyze is not installed (Debian package "systemd"): the unit cannot be verified')
    return
  }
  const verify = spawnSync('systemd-analyze', ['verify', join(ROOT, 'deploy/systemd/arzti-fastpath.service')], { encoding: 'utf8' })
  t.equal(verify.status, 0, 'systemd-analyze verify passes')
  // verify only warns (exit 0) about a line it cannot parse and then ignores: any output is a failure.
  t.equal(verify.stderr.trim(), '', 'systemd-analyze verify has nothing to say about it')
})

t.test('the Dockerfile: Node 24, non-root, the install of the docs, the command of npm start, a health check on /healthz', async (t) => {
  const dockerfile = (await read('Dockerfile')).replace(/\\\n\s*/g, '')
  const scripts = JSON.parse(await read('package.json')).scripts as Record<string, string>
  t.match(dockerfile, /^FROM node:24[-\w.]*$/m, 'a Node 24 base image')
  const user = /^USER (\S+)$/m.exec(dockerfile)?.[1]
  t.ok(user !== undefined && user !== 'root' && user !== '0', `runs as ${user}, not root`)
  const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)![1]!) as string[]
  t.equal(cmd.join(' '), scripts.start!.replace(/^exec /, ''), 'CMD is the command of `npm start`')
  const install = /^RUN (npm ci[^&\n]*?)\s*(&&|$)/m.exec(dockerfile)?.[1]
  t.ok(install, 'installs with npm ci')
  t.ok((await read('docs/deployment.md')).includes(`sudo ${install}`), `deployment.md installs the same way (${install})`)
  const readme = await read('README.md')
  t.ok(readme.includes('npm ci && npm start'), 'README\'s two commands are npm ci and npm start')
  const adminPort = OPTIONS.find((o) => o.name === 'admin.port')!.default
  t.match(dockerfile, new RegExp(`^HEALTHCHECK .*127\\.0\\.0\\.1:${adminPort}/healthz`, 'm'), 'HEALTHCHECK asks the admin /healthz')
  t.match(dockerfile, /^EXPOSE 8080 9091$/m)
  // --omit=dev: whatever the proxy imports at run time must be a dependency, not a devDependency.
  const pkg = JSON.parse(await read('package.json')) as { dependencies: Record<string, string> }
  for (const name of await runtimeImports()) t.ok(name in pkg.dependencies || name.startsWith('node:'), `${name}, imported by the proxy, is installed by --omit=dev`)
})

/** Packages imported by the code the image runs (proxy/, routes/, config/, sql/), excluding type-only imports. */
async function runtimeImports(): Promise<Set<string>> {
  const names = new Set<string>()
  for (const dir of ['proxy', 'routes', 'config', 'sql']) {
    for (const file of await readdir(join(ROOT, dir), { recursive: true })) {
      if (!file.endsWith('.ts')) continue
      const text = await read(`${dir}/${file}`)
      for (const m of text.matchAll(/^import (?!type )[^'"]*?from '([^'.][^']*)'/gm)) {
        const spec = m[1]!
        names.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!)
      }
    }
  }
  return names
}

t.test('nginx accepts the TLS server of deploy/nginx (nginx -t with a throw-away certificate)', async (t) => {
  if (spawnSync('nginx', ['-v']).error || spawnSync('openssl', ['version']).error) {
    t.fail('nginx or openssl is not installed (Debian packages "nginx", "openssl"): the TLS example cannot be checked')
    return
  }
  const dir = await mkdtemp(join(tmpdir(), 'docs-nginx-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const cert = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=docs-check', '-keyout', join(dir, 'privkey.pem'), '-out', join(dir, 'fullchain.pem')], { encoding: 'utf8' })
  t.equal(cert.status, 0, 'a throw-away certificate')
  const site = (await read('deploy/nginx/arzti-fastpath.conf')).replaceAll('/etc/ssl/arzti-fastpath/', `${dir}/`)
  await writeFile(join(dir, 'site.conf'), site)
  await writeFile(join(dir, 'nginx.conf'), `pid ${dir}/nginx.pid;\nerror_log stderr;\nevents {}\nhttp {\n  access_log off;\n  include ${dir}/site.conf;\n}\n`)
  const check = spawnSync('nginx', ['-t', '-p', dir, '-c', join(dir, 'nginx.conf')], { encoding: 'utf8' })
  t.equal(check.status, 0, `nginx -t: ${check.stderr.trim()}`)
})

t.test('every `npm run <script>` in the docs and README exists, and `npm run indexes` is given a command it knows', async (t) => {
  const scripts = JSON.parse(await read('package.json')).scripts as Record<string, string>
  const usage = spawnSync(process.execPath, [join(ROOT, 'sql/indexes/index-cli.ts'), 'no-such-command'], { encoding: 'utf8' })
  const commands = new Set(/indexes -- ([\w|]+)/.exec(usage.stderr)?.[1]?.split('|'))
  t.ok(commands.has('apply'), `the index tool's usage lists its commands (${[...commands].join(', ')})`)
  for (const file of await markdownFiles()) {
    const text = await read(file)
    for (const m of text.matchAll(/npm run ([\w:.-]+)/g)) t.ok(m[1]! in scripts, `${file}: npm run ${m[1]} is a script`)
    for (const m of text.matchAll(/npm run indexes -- (\w+)/g)) t.ok(commands.has(m[1]!), `${file}: npm run indexes -- ${m[1]} is a command of the index tool`)
  }
})

t.test('every environment variable named in the operator docs and deploy files is one the proxy reads', async (t) => {
  const texts: Array<[string, string]> = []
  for (const file of OPERATOR_DOCS) texts.push([file, await read(file)])
  for (const file of await deployFiles()) texts.push([file, await read(file)])
  texts.push(['Dockerfile', await read('Dockerfile')])
  for (const [file, text] of texts) {
    for (const name of envNames(text)) {
      if (NOT_ENV.has(name)) continue
      t.ok(KNOWN_ENV.has(name), `${file}: ${name} is in config/schema.ts or config/docs.ts OTHER_ENV`)
    }
  }
})

/**
 * The values the docs give an env variable of the proxy — `` `NAME` (default VALUE`` and `NAME=VALUE` —
 * that its schema rejects, as loading them would: "`ADMIN_PORT` (default 127.0.0.1:9091)" was one.
 * Values that are placeholders (`$VAR`, `<…>`, `…`) are not checked.
 */
function rejectedEnvValues(text: string): string[] {
  const byEnv = new Map(OPTIONS.filter((o) => o.env !== undefined).map((o) => [o.env!, o]))
  const found: Array<[string, string]> = []
  for (const m of text.matchAll(/`([A-Z][A-Z0-9_]+)` \(default `?([^`;,)\s]+)/g)) found.push([m[1]!, m[2]!])
  for (const m of text.matchAll(/(?<![A-Za-z0-9_$])([A-Z][A-Z0-9_]+)=([^\s`'"|)]+)/g)) found.push([m[1]!, m[2]!])
  const problems: string[] = []
  for (const [name, value] of found) {
    if (!byEnv.has(name) || /[$<…{]/.test(value)) continue
    try {
      loadConfig({ env: { FASTPATH_ENV: 'test', [name]: value } })
    } catch (error) {
      const own = ((error as { problems?: string[] }).problems ?? []).filter((p) => p.startsWith(`${name} `))
      if (own.length > 0) problems.push(`${name}=${value}: ${own.join('; ')}`)
    }
  }
  return problems
}

t.test('an env variable documented with a value its schema rejects is caught (the ADMIN_PORT kind)', async (t) => {
  t.match(rejectedEnvValues('| `ADMIN_PORT` (default 127.0.0.1:9091) | the admin listener |'), [/^ADMIN_PORT=127\.0\.0\.1:9091: ADMIN_PORT \(option admin\.port\): must be an integer/], 'the old README line is caught')
  t.match(rejectedEnvValues('LOG_LEVEL=loud npm start'), [/LOG_LEVEL=loud/], 'a value in a command line too')
  t.same(rejectedEnvValues('`ADMIN_PORT` (default 9091; its address is `ADMIN_HOST`) and PORT=$PORT, LEGACY_URL=<url>'), [], 'valid values and placeholders pass')
  const texts: Array<[string, string]> = []
  for (const file of [...OPERATOR_DOCS, 'docs/proxy.md']) texts.push([file, await read(file)])
  for (const file of await deployFiles()) texts.push([file, await read(file)])
  for (const [file, text] of texts) t.same(rejectedEnvValues(text), [], `${file}: every documented env value loads`)
})

t.test('every config option named in the operator docs exists', async (t) => {
  for (const file of OPERATOR_DOCS) {
    for (const m of (await read(file)).matchAll(/`([a-zA-Z]+(?:\.[a-zA-Z0-9]+)+)`/g)) {
      const name = m[1]!
      if (!TOP_LEVEL.has(name.split('.')[0]!)) continue
      t.ok(OPTION_NAMES.has(name), `${file}: \`${name}\` is an option`)
    }
  }
})

t.test('every relative link in the docs and README points to a file (and a heading) that exists', async (t) => {
  for (const file of await markdownFiles()) {
    const text = prose(await read(file))
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1]!
      if (/^[a-z]+:/.test(target)) continue
      const [path, anchor] = target.split('#') as [string, string | undefined]
      const resolved = path === '' ? join(ROOT, file) : resolve(dirname(join(ROOT, file)), path)
      if (!existsSync(resolved)) {
        t.fail(`${file}: link ${target} → ${relative(ROOT, resolved)} does not exist`)
        continue
      }
      if (anchor !== undefined && resolved.endsWith('.md')) {
        t.ok(anchors(await readFile(resolved, 'utf8')).has(anchor), `${file}: link ${target} names a heading of ${relative(ROOT, resolved)}`)
      } else t.pass(`${file}: ${target}`)
    }
  }
})

t.test('every alert rule has its section in docs/operations.md', async (t) => {
  const rules = parseAllDocuments(await read('config/prometheus/alerts.yml'))[0]!.toJS() as { groups: Array<{ rules: Array<{ alert: string }> }> }
  const headings = anchors(await read('docs/operations.md'))
  const alerts = rules.groups.flatMap((g) => g.rules.map((r) => r.alert))
  t.ok(alerts.length > 0)
  for (const alert of alerts) t.ok(headings.has(alert.toLowerCase()), `### ${alert} in operations.md`)
})

t.test('the rollout and rollback lines of operations.md work against a running proxy, and the way back takes under 30 s', async (t) => {
  const upstream = await startEchoUpstream()
  t.teardown(() => upstream.close())
  const token = 'docs-check-token'
  const proxy = await proxyFor(t, { legacyUrl: upstream.url, 'admin.token': token })
  const blocks = codeBlocks('docs/operations.md', await read('docs/operations.md')).filter((b) => b.marker?.startsWith('run'))
  t.ok(blocks.length >= 5, `${blocks.length} runnable blocks`)
  t.ok(blocks.some((b) => b.marker === 'run rollback'), 'one of them is the rollback')
  for (const block of blocks) {
    const started = performance.now()
    const { code, stdout, stderr } = await bash(block.text, { ADMIN: proxy.adminUrl, FASTPATH_ADMIN_TOKEN: token })
    const ms = performance.now() - started
    t.equal(code, 0, `operations.md:${block.line} runs (${stderr.trim() || 'ok'})`)
    const put = /-d '(\{[^']*\})' "\$ADMIN\/flags\/([\w.]+)"/.exec(block.text)
    if (put) {
      const answer = JSON.parse(stdout) as { flag: unknown }
      // {"mode":"canary:50"} is stored as {"mode":"canary","percent":50}.
      const parsed = parseFlagSetting(JSON.parse(put[1]!))
      const expected = parsed.ok ? parsed.value : undefined
      t.same(answer.flag, expected, `operations.md:${block.line} set ${put[2]} to ${put[1]}`)
      t.same(proxy.flags.get(put[2] as 'v2.rezept.list'), expected, 'and the proxy now has that flag')
    }
    if (block.marker === 'run rollback') t.ok(ms < 30_000, `the way back took ${ms.toFixed(0)} ms (under 30 s)`)
  }
  t.same(proxy.flags.get('v2.rezept.list'), { mode: 'off' }, 'the section ends with the route off')
})

function bash(script: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile('bash', ['-euo', 'pipefail', '-c', script], { env: { ...process.env, ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr })
    })
  })
}
