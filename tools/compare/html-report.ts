// The compare run as one self-contained HTML page: inline CSS, inline SVG charts (no script, no
// external file), so it can be mailed, archived or opened from a CI artefact as it is.
import type { CompareResult } from './compare-run.ts'
import { SERVING_PATHS, type ServingPath } from './replay.ts'
import { demotionLines, formatMs, formatSpeedup, type PathStats, type RouteSummary } from './summary.ts'

const COLORS: Record<ServingPath, string> = { legacy: '#c2410c', fast: '#1d4ed8', cache: '#15803d' }

/** `legacyName`: what the legend calls the upstream (the operator's `--legacy-name`, or what main.ts knows of it). */
export function htmlReport(result: CompareResult, routes: readonly RouteSummary[], legacyName = 'the proxy\'s upstream'): string {
  const verdict = result.mismatches.length === 0
    ? `<p class="ok">All ${result.compared} fast answers equal the legacy's (volatile timestamps blanked by JSON position).</p>`
    : `<p class="bad">${result.mismatches.length} of ${result.compared} fast answers differ from the legacy's.</p>`
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>arzti-fastpath compare: legacy vs fast path</title>
<style>${CSS}</style></head><body>
<h1>Legacy vs fast path</h1>
<p class="meta">${escape(result.proxyUrl)} · ${escape(result.startedAt)} · ${result.requests.length} requests × ${result.rounds} rounds per pass · ${result.mode === 'flags' ? 'passes: legacy (flag off), cold and warm cache (flag on)' : 'observed (paths from Server-Timing)'} · ${(result.durationMs / 1000).toFixed(1)} s</p>
${verdict}
${demotionLines(result).map((line) => `<p class="${line.startsWith('DEMOTED') ? 'bad' : 'meta'}">${escape(line)}</p>`).join('\n')}
${legend(legacyName)}
${routes.map((route) => routeSection(route, result)).join('\n')}
${mismatchSection(result)}
<h2>Requests</h2>
<ol class="requests">${result.requests.map((r) => `<li><code>${escape(r.label)}</code></li>`).join('')}</ol>
</body></html>
`
}

function routeSection(route: RouteSummary, result: CompareResult): string {
  const rows = SERVING_PATHS.filter((p) => route.paths[p]).map((path) => {
    const s = route.paths[path]!
    const speed = path === 'legacy' ? undefined : route.speedup[path]
    const mism = path === 'legacy' ? '' : String(result.mismatches.filter((m) => m.route === route.route && m.path === path).length)
    return `<tr><td><span class="dot" style="background:${COLORS[path]}"></span>${path}</td><td>${s.count}</td><td>${formatMs(s.p50)}</td><td>${formatMs(s.p95)}</td><td>${formatMs(s.p99)}</td><td>${formatSpeedup(speed?.p50)}</td><td>${formatSpeedup(speed?.p99)}</td><td>${mism}</td></tr>`
  })
  return `<section><h2>${escape(route.route)}</h2>
<div class="row"><table><thead><tr><th>path</th><th>count</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>speedup p50</th><th>speedup p99</th><th>mismatches</th></tr></thead><tbody>${rows.join('')}</tbody></table>
${percentileBars(route)}</div>
${distribution(route)}
</section>`
}

/** p50/p95/p99 per path as horizontal bars on a log scale (the paths differ by orders of magnitude). */
function percentileBars(route: RouteSummary): string {
  const paths = SERVING_PATHS.filter((p) => route.paths[p])
  const width = 520
  const left = 70
  const bar = 9
  const groupHeight = 3 * (bar + 3) + 12
  const height = paths.length * groupHeight + 30
  const all = paths.flatMap((p) => [route.paths[p]!.p50, route.paths[p]!.p99])
  const scale = logScale(Math.min(...all), Math.max(...all), left, width - 60)
  // The axis and its gridlines first: SVG paints in order, so bars and labels then lie above them.
  const parts: string[] = [axis(scale, left, width - 60, height - 18)]
  paths.forEach((path, g) => {
    const s = route.paths[path]!
    const y0 = 8 + g * groupHeight
    parts.push(`<text x="${left - 8}" y="${y0 + 20}" text-anchor="end" class="lbl">${path}</text>`)
    ;(['p50', 'p95', 'p99'] as const).forEach((p, i) => {
      const y = y0 + i * (bar + 3)
      const x = scale.x(s[p])
      parts.push(`<rect x="${left}" y="${y}" width="${Math.max(1, x - left).toFixed(1)}" height="${bar}" fill="${COLORS[path]}" opacity="${1 - i * 0.25}"/>`)
      parts.push(`<text x="${(x + 4).toFixed(1)}" y="${y + bar - 1}" class="val">${p} ${formatMs(s[p])}</text>`)
    })
  })
  return `<svg class="chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="p50, p95 and p99 per path, log scale">${parts.join('')}</svg>`
}

/** Every answer's latency, sorted, per path: the whole distribution, log scale. */
function distribution(route: RouteSummary): string {
  const paths = SERVING_PATHS.filter((p) => route.paths[p])
  const width = 1060
  const height = 220
  const left = 60
  const right = width - 20
  const top = 12
  const bottom = height - 34
  const all = paths.flatMap((p) => route.paths[p]!.sorted)
  const y = logScale(Math.min(...all), Math.max(...all), bottom, top)
  // Gridlines first, then the curves, then every label: nothing is drawn over a label.
  const grid: string[] = []
  const labels: string[] = [`<text x="${left}" y="${height - 4}" class="lbl">percentile of answers →</text>`]
  for (const q of [0, 25, 50, 75, 90, 99]) {
    const x = left + (q / 100) * (right - left)
    grid.push(`<line x1="${x}" x2="${x}" y1="${top}" y2="${bottom}" class="grid"/>`)
    labels.push(`<text x="${x}" y="${bottom + 14}" text-anchor="middle" class="val">${q}</text>`)
  }
  for (const tick of y.ticks) {
    grid.push(`<line x1="${left}" x2="${right}" y1="${y.x(tick).toFixed(1)}" y2="${y.x(tick).toFixed(1)}" class="grid"/>`)
    labels.push(`<text x="${left - 6}" y="${(y.x(tick) + 4).toFixed(1)}" text-anchor="end" class="val">${tick} ms</text>`)
  }
  const parts = [...grid, ...paths.map((path) => curve(route.paths[path]!, (f) => left + f * (right - left), (ms) => y.x(ms), COLORS[path])), ...labels]
  return `<svg class="chart wide" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="latency distribution per path">${parts.join('')}</svg>`
}

function curve(s: PathStats, x: (fraction: number) => number, y: (ms: number) => number, color: string): string {
  const n = s.sorted.length
  const points = s.sorted.map((ms, i) => `${x(n === 1 ? 0.5 : i / (n - 1)).toFixed(1)},${y(ms).toFixed(1)}`)
  return `<polyline points="${points.join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`
}

interface LogScale {
  x(ms: number): number
  readonly ticks: readonly number[]
}

function logScale(minMs: number, maxMs: number, from: number, to: number): LogScale {
  const lo = Math.log10(Math.max(0.01, minMs) / 1.5)
  const hi = Math.log10(Math.max(maxMs * 1.5, Math.max(0.01, minMs) * 3))
  const x = (ms: number) => from + ((Math.log10(Math.max(0.01, ms)) - lo) / (hi - lo)) * (to - from)
  const ticks: number[] = []
  for (let e = Math.floor(lo); e <= Math.ceil(hi); e++) {
    const v = Number((10 ** e).toPrecision(1))
    if (Math.log10(v) >= lo && Math.log10(v) <= hi) ticks.push(v)
  }
  return { x, ticks }
}

function axis(scale: LogScale, from: number, to: number, y: number): string {
  const grid = scale.ticks.map((t) => `<line x1="${scale.x(t).toFixed(1)}" x2="${scale.x(t).toFixed(1)}" y1="0" y2="${y}" class="grid"/>`)
  const labels = scale.ticks.map((t) => `<text x="${scale.x(t).toFixed(1)}" y="${y + 13}" text-anchor="middle" class="val">${t} ms</text>`)
  return `${grid.join('')}<line x1="${from}" x2="${to}" y1="${y}" y2="${y}" class="axis"/>${labels.join('')}`
}

function legend(legacyName: string): string {
  const text: Record<ServingPath, string> = { legacy: `legacy (${escape(legacyName)})`, fast: 'fast path (SQL, cache empty)', cache: 'fast path from its cache' }
  return `<p class="legend">${SERVING_PATHS.map((p) => `<span><span class="dot" style="background:${COLORS[p]}"></span>${text[p]}</span>`).join('')}</p>`
}

function mismatchSection(result: CompareResult): string {
  if (result.mismatches.length === 0) return ''
  const items = result.mismatches.filter((m) => m.differences.length > 0).map((m) =>
    `<li><code>${escape(m.label)}</code> (${m.pass}, ${m.path})<ul>${m.differences.map((d) => `<li><code>${escape(d.path)}</code>: legacy <code>${escape(d.legacy)}</code> fast <code>${escape(d.fast)}</code></li>`).join('')}</ul></li>`)
  return `<h2 class="bad">Mismatches</h2><ul class="mismatches">${items.join('')}</ul>`
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2937;margin:24px 32px;max-width:1120px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #e5e7eb;padding-bottom:4px}
.meta{color:#6b7280;margin:0 0 12px}.ok{color:#15803d;font-weight:600}.bad{color:#b91c1c;font-weight:600}
table{border-collapse:collapse;margin:4px 24px 8px 0;font-variant-numeric:tabular-nums}
th,td{padding:4px 10px;text-align:right;border-bottom:1px solid #e5e7eb}th:first-child,td:first-child{text-align:left}
th{font-weight:600;color:#374151;background:#f9fafb}
.row{display:flex;flex-wrap:wrap;align-items:flex-start}
.dot{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}
.legend span{margin-right:18px}.chart{background:#fff;border:1px solid #e5e7eb;border-radius:4px}
.chart.wide{margin-top:8px}.lbl{font-size:12px;fill:#374151}.val{font-size:10px;fill:#4b5563}
.grid{stroke:#eef0f3;stroke-width:1}.axis{stroke:#9ca3af}
code{font:12px ui-monospace,Menlo,Consolas,monospace}.requests{columns:2;color:#4b5563}
`
