// The house's one-way rule (docs/architecture.md): a room imports only rooms of its own layer or
// below, rooms of one layer never import each other in a circle, and the exceptions are few and
// written here with their reason. Also: no production file grows past ~300 lines without saying why.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import t from 'tap'

const ROOT = resolve(new URL('../../', import.meta.url).pathname)

/** Layers from the bottom up; a room may import its own layer and those below. */
const LAYERS: readonly (readonly string[])[] = [
  ['core', 'config'],            // events, errors, vocabularies, the one config schema
  ['json', 'tenants', 'sql'],    // byte writers; tenant connections; SQL text, indexes, seeding
  ['auth', 'cache'],             // Basic + BCrypt verification; response cache, generations, change feed
  ['routes'],                    // route table, contract, flags, one folder per fast path
  ['proxy'],                     // listeners, pass-through, limits, shadow, metrics, the instance
  ['legacy-sim', 'tools', 'dev', 'bench', 'k6', 'test'], // programs beside the proxy
]

/** Imports that break the layering on purpose, each with why. */
const EXCEPTIONS: readonly { from: RegExp; to: RegExp; why: string }[] = [
  { from: /^proxy\/demo\//, to: /^legacy-sim\//, why: 'the demo (npm start without LEGACY_URL) runs the simulator as its legacy' },
]

/** Programs beside the proxy that must not lean on each other's insides. */
const FORBIDDEN: readonly { from: string; to: string; why: string }[] = [
  { from: 'bench', to: 'test', why: 'the harness shares helpers with the tests through dev/, not by reaching into test/' },
  { from: 'tools', to: 'test', why: 'tools share helpers with the tests through dev/' },
  { from: 'legacy-sim', to: 'proxy', why: 'the simulator stands in for the legacy: it knows nothing of the proxy' },
  { from: 'legacy-sim', to: 'routes', why: 'the simulator shares only the JSON writer (json/) with the fast paths' },
  { from: 'legacy-sim', to: 'cache', why: 'as above' },
  { from: 'legacy-sim', to: 'auth', why: 'as above: it verifies BCrypt its own way' },
]

const LONG_FILE_LINES = 300
const LONG_FILE_REASON = /^\/\/ Over 300 lines because /m
const PRODUCTION = new Set(['core', 'config', 'json', 'tenants', 'sql', 'auth', 'cache', 'routes', 'proxy', 'legacy-sim', 'tools', 'dev'])

const layerOf = new Map<string, number>()
LAYERS.forEach((rooms, layer) => rooms.forEach((room) => layerOf.set(room, layer)))

function sourceFiles(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path))
    else if (name.endsWith('.ts')) out.push(path)
  }
  return out
}

const SPECIFIER = /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+|new URL\(\s*)(['"])(\.{1,2}\/[^'"]+)\1/g

interface Edge { readonly file: string; readonly target: string; readonly from: string; readonly to: string }

function edges(): Edge[] {
  const found: Edge[] = []
  for (const room of layerOf.keys()) {
    let files: string[]
    try { files = sourceFiles(join(ROOT, room)) } catch { continue }
    for (const path of files) {
      const file = relative(ROOT, path)
      for (const match of readFileSync(path, 'utf8').matchAll(SPECIFIER)) {
        if (!/\.(ts|json)$/.test(match[2]!)) continue // files read as data, not modules
        const target = relative(ROOT, resolve(dirname(path), match[2]!))
        const to = target.split('/')[0]!
        if (to !== room) found.push({ file, target, from: room, to })
      }
    }
  }
  return found
}

const all = edges()

t.test('every import points to the same layer or down, or is a written exception', async (t) => {
  const wrong = all.filter((e) => {
    const from = layerOf.get(e.from)!
    const to = layerOf.get(e.to)
    if (to === undefined) return !e.target.startsWith('node_modules')
    if (to <= from) return false
    return !EXCEPTIONS.some((x) => x.from.test(e.file) && x.to.test(e.target))
  })
  t.same(wrong.map((e) => `${e.file} → ${e.target}`), [], 'no import points up')
  t.ok(all.length > 100, `the check saw the house's imports (${all.length} across rooms)`)
})

t.test('programs beside the proxy keep out of each other\'s insides', async (t) => {
  for (const rule of FORBIDDEN) {
    const wrong = all.filter((e) => e.from === rule.from && e.to === rule.to)
    t.same(wrong.map((e) => `${e.file} → ${e.target}`), [], `${rule.from}/ does not import ${rule.to}/: ${rule.why}`)
  }
})

t.test('rooms of one layer never import each other in a circle', async (t) => {
  const graph = new Map<string, Set<string>>()
  for (const e of all) {
    if (layerOf.get(e.from) !== layerOf.get(e.to)) continue
    if (!graph.has(e.from)) graph.set(e.from, new Set())
    graph.get(e.from)!.add(e.to)
  }
  const circles: string[] = []
  for (const start of graph.keys()) {
    const seen = new Set<string>()
    const walk = (room: string, path: string[]): void => {
      for (const next of graph.get(room) ?? []) {
        if (next === start) circles.push([...path, next].join(' → '))
        else if (!seen.has(next)) { seen.add(next); walk(next, [...path, next]) }
      }
    }
    walk(start, [start])
  }
  t.same(circles, [], 'no circle between rooms of a layer')
})

t.test(`no production file over ${LONG_FILE_LINES} lines without a written reason`, async (t) => {
  const long: string[] = []
  for (const room of PRODUCTION) {
    let files: string[]
    try { files = sourceFiles(join(ROOT, room)) } catch { continue }
    for (const path of files) {
      const text = readFileSync(path, 'utf8')
      const lines = text.split('\n').length
      if (lines > LONG_FILE_LINES && !LONG_FILE_REASON.test(text)) long.push(`${relative(ROOT, path)} (${lines} lines)`)
    }
  }
  t.same(long, [], `long files say why in a line "// Over ${LONG_FILE_LINES} lines because …"`)
})
