// Turns a compare run's samples into what the reports show: per route and serving path the count and
// p50/p95/p99 (nearest rank), the speedup over the legacy, the mismatches, and the demotions.
import type { CompareResult } from './compare-run.ts'
import { SERVING_PATHS, type ServingPath } from './replay.ts'

export interface PathStats {
  readonly count: number
  readonly p50: number
  readonly p95: number
  readonly p99: number
  readonly max: number
  /** Every latency, ascending (for the charts). */
  readonly sorted: readonly number[]
}

export interface RouteSummary {
  readonly route: string
  readonly paths: Partial<Record<ServingPath, PathStats>>
  /** legacy p50 / path p50 and legacy p99 / path p99; absent without both. */
  readonly speedup: Partial<Record<'fast' | 'cache', { readonly p50: number; readonly p99: number }>>
  readonly mismatches: number
  readonly compared: number
}

export function summarize(result: CompareResult): RouteSummary[] {
  const routes = [...new Set(result.requests.map((r) => r.route))]
  return routes.map((route) => {
    const paths: Partial<Record<ServingPath, PathStats>> = {}
    for (const path of SERVING_PATHS) {
      const ms = result.samples.filter((s) => s.path === path && result.requests[s.request]!.route === route).map((s) => s.ms)
      if (ms.length > 0) paths[path] = stats(ms)
    }
    const speedup: RouteSummary['speedup'] = {}
    for (const path of ['fast', 'cache'] as const) {
      const legacy = paths.legacy
      const other = paths[path]
      if (legacy && other) speedup[path] = { p50: legacy.p50 / other.p50, p99: legacy.p99 / other.p99 }
    }
    const compared = result.samples.filter((s) => (s.path === 'fast' || s.path === 'cache') && result.requests[s.request]!.route === route).length
    return { route, paths, speedup, mismatches: result.mismatches.filter((m) => m.route === route).length, compared }
  })
}

export function stats(values: readonly number[]): PathStats {
  const sorted = [...values].sort((a, b) => a - b)
  const at = (p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!
  return { count: sorted.length, p50: at(50), p95: at(95), p99: at(99), max: sorted[sorted.length - 1]!, sorted }
}

export function formatMs(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2)
}

export function formatSpeedup(x: number | undefined): string {
  return x === undefined ? '–' : `${x >= 10 ? x.toFixed(0) : x.toFixed(1)}×`
}

/** What happened to the flags during the run: a demoted route's later answers came from the legacy. */
export function demotionLines(result: CompareResult): string[] {
  if (result.demotions === undefined) return result.mode === 'observed' ? ['(no --admin: whether the proxy demoted a route during the run is not known)'] : []
  return result.demotions.map((d) => {
    const classes = Object.entries(d.classes).map(([name, count]) => `${name} ×${count}`).join(', ')
    return `DEMOTED during the run: ${d.route} at ${d.at}: ${d.reason}; answers after it came from the legacy, the route is left off` +
      (classes === '' ? '' : `; the proxy's mismatch records: ${classes}${d.member === null ? '' : ` (first at ${d.member})`}`)
  })
}
