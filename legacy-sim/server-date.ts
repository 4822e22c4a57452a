// DateTime.Today and DateTime.Now's time of day as the legacy writes them: the server's local date and
// time in its time zone (the legacy runs with TZ=Europe/Berlin), never the simulator process's own zone.

export const DEFAULT_TIME_ZONE = 'Europe/Berlin'

const formatters = new Map<string, Intl.DateTimeFormat>()

/** The formatter of an IANA time zone; throws RangeError for an unknown zone (checked at start-up). */
export function zoneFormatter(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone)
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    })
    formatters.set(timeZone, formatter)
  }
  return formatter
}

function localParts(timeZone: string, now: Date): Record<string, string> {
  const parts: Record<string, string> = {}
  for (const p of zoneFormatter(timeZone).formatToParts(now)) parts[p.type] = p.value
  return parts
}

/** YYYY-MM-DD: the date in `timeZone` (what `DateOnly.FromDateTime(DateTime.Today)` gives there). */
export function serverToday(timeZone: string, now = new Date()): string {
  const p = localParts(timeZone, now)
  return `${p.year!.padStart(4, '0')}-${p.month}-${p.day}`
}

/** HH:MM:SS.mmm: the time of day in `timeZone`. */
export function serverTimeOfDay(timeZone: string, now = new Date()): string {
  const p = localParts(timeZone, now)
  return `${p.hour}:${p.minute}:${p.second}.${String(now.getUTCMilliseconds()).padStart(3, '0')}`
}
