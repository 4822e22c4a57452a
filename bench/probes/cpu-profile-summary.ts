// Where a process's CPU time went: `node bench/probes/cpu-profile-summary.ts <file.cpuprofile> [top]` sums the
// self time of a `node --cpu-prof` profile per function and per file (node_modules package or project
// file) and prints the largest shares. Used to explain a missed target (docs/fast-path.md, Benchmark).
import { readFileSync } from 'node:fs'

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
}
interface Profile {
  readonly nodes: readonly ProfileNode[]
  readonly samples: readonly number[]
  readonly timeDeltas: readonly number[]
}

const [path, topText] = process.argv.slice(2)
if (path === undefined) {
  console.error('usage: node bench/probes/cpu-profile-summary.ts <file.cpuprofile> [top]')
  process.exit(2)
}
const top = Number(topText ?? 25)
const profile = JSON.parse(readFileSync(path, 'utf8')) as Profile
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const perFunction = new Map<string, number>()
const perFile = new Map<string, number>()
let total = 0
profile.samples.forEach((id, i) => {
  const us = profile.timeDeltas[i] ?? 0
  total += us
  const frame = byId.get(id)!.callFrame
  const file = frame.url === '' ? `(${frame.functionName || 'native'})` : fileLabel(frame.url)
  const fn = `${frame.functionName || '(anonymous)'} ${file}${frame.url ? `:${frame.lineNumber + 1}` : ''}`
  perFunction.set(fn, (perFunction.get(fn) ?? 0) + us)
  perFile.set(file, (perFile.get(file) ?? 0) + us)
})

function fileLabel(url: string): string {
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (nm) return nm[1]!
  const project = /\/work\/[^/]+\/(.*)$/.exec(url) ?? /([^/]+\/[^/]+)$/.exec(url)
  return project ? project[1]! : url
}

const print = (title: string, map: Map<string, number>) => {
  console.log(`\n${title} (of ${(total / 1e6).toFixed(1)} s sampled)`)
  for (const [name, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${((us / total) * 100).toFixed(1).padStart(5)} %  ${name}`)
}
print('self time per file', perFile)
print('self time per function', perFunction)
