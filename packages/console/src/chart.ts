import type { HourCounts } from '@fp-webhooks/db'

/*
 * The "at a glance" charts: small SVG bar charts drawn here, on the server, so the page needs no
 * chart library and no script. Only presentation attributes and classes: the page's
 * Content-Security-Policy allows no inline style.
 */

const WIDTH = 480
const HEIGHT = 96
const TOP = 14
const BOTTOM = 16
const LEFT = 4

const escapeXml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

const hourLabel = (d: Date) => `${d.toISOString().slice(0, 13).replace('T', ' ')}:00 UTC`

/**
 * One bar per hour, oldest first, scaled to the largest count; each bar's tooltip names the hour
 * and the count.
 * @param series which count to draw
 * @param noun what is counted, for tooltips and the accessible name ("deliveries")
 */
export function hourlyChart (hours: readonly HourCounts[], series: 'deliveries' | 'grants' | 'failures', noun: string): string {
  const values = hours.map((h) => h[series])
  const max = Math.max(1, ...values)
  const total = values.reduce((a, b) => a + b, 0)
  const slot = (WIDTH - LEFT) / Math.max(hours.length, 1)
  const barWidth = Math.max(1, slot - 2)
  const plot = HEIGHT - TOP - BOTTOM
  const bars = hours.map((h, i) => {
    const v = h[series]
    const height = v === 0 ? 0 : Math.max(2, Math.round((v / max) * plot))
    const x = (LEFT + i * slot).toFixed(1)
    const y = TOP + plot - height
    return `<rect class="bar${v === 0 ? ' empty' : ''}" x="${x}" y="${v === 0 ? TOP + plot - 1 : y}" width="${barWidth.toFixed(1)}" height="${v === 0 ? 1 : height}"><title>${escapeXml(`${hourLabel(h.hour)}: ${v} ${noun}`)}</title></rect>`
  })
  // Ticks every 12 hours, labelled with the UTC hour.
  const ticks = hours.flatMap((h, i) => (i % 12 === 0 || i === hours.length - 1)
    ? [i === hours.length - 1
        ? `<text class="tick" x="${WIDTH}" y="${HEIGHT - 3}" text-anchor="end">now</text>`
        : `<text class="tick" x="${(LEFT + i * slot).toFixed(1)}" y="${HEIGHT - 3}">${escapeXml(`${h.hour.toISOString().slice(11, 13)}h`)}</text>`]
    : [])
  return [
    `<svg class="chart chart-${series}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeXml(`${noun} per hour, last ${hours.length} hours: ${total} in all`)}" xmlns="http://www.w3.org/2000/svg">`,
    `<text class="max" x="${WIDTH}" y="10" text-anchor="end">max ${max}/h</text>`,
    `<line class="axis" x1="${LEFT}" y1="${TOP + plot + 0.5}" x2="${WIDTH}" y2="${TOP + plot + 0.5}"/>`,
    ...bars,
    ...ticks,
    '</svg>'
  ].join('')
}
