// The compare run as a terminal table: per route and serving path count and p50/p95/p99 (ms), the
// speedup over the legacy, and the mismatches with the first differing JSON paths.
import type { CompareResult } from './compare-run.ts'
import { SERVING_PATHS } from './replay.ts'
import { demotionLines, formatMs, formatSpeedup, type RouteSummary } from './summary.ts'

export function terminalReport(result: CompareResult, routes: readonly RouteSummary[]): string {
  const rows: string[][] = [['route', 'path', 'count', 'p50 ms', 'p95 ms', 'p99 ms', 'speedup p50', 'speedup p99', 'mismatches']]
  for (const route of routes) {
    for (const path of SERVING_PATHS) {
      const s = route.paths[path]
      if (!s) continue
      const speedup = path === 'legacy' ? undefined : route.speedup[path]
      const mismatches = path === 'legacy' ? '' : String(result.mismatches.filter((m) => m.route === route.route && m.path === path).length)
      rows.push([route.route, path, String(s.count), formatMs(s.p50), formatMs(s.p95), formatMs(s.p99), path === 'legacy' ? '' : formatSpeedup(speedup?.p50), path === 'legacy' ? '' : formatSpeedup(speedup?.p99), mismatches])
    }
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)))
  const line = (r: string[]) => r.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')
  const out = [line(rows[0]!), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.slice(1).map(line)]
  out.push('', `${result.compared} fast answers compared with the legacy's: ${result.mismatches.length === 0 ? 'all equal' : `${result.mismatches.length} MISMATCHES`}` +
    (result.uncompared > 0 ? ` (${result.uncompared} without a legacy answer to compare with)` : ''))
  out.push(...demotionLines(result))
  for (const m of result.mismatches) {
    if (m.differences.length === 0) continue
    out.push(`  ✗ ${m.pass} ${m.path} ${m.label}`)
    for (const d of m.differences) out.push(`      ${d.path}: legacy ${d.legacy}  fast ${d.fast}`)
  }
  return out.join('\n')
}
