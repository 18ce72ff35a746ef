#!/usr/bin/env node
// Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time by function and by package.
// Usage: node src/profile-summary.mjs <file.cpuprofile> [top=25] [--callers=<function name>]
// --callers shows which call stacks lead to one function's self time (e.g. --callers=writeBuffer).
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** Where a script lives, shortened: the package for node_modules, the workspace path otherwise. */
function place (url) {
  if (!url) return '(native/V8)'
  const u = url.replace(/^file:\/\//, '')
  const nm = u.lastIndexOf('/node_modules/')
  if (nm !== -1) {
    const rest = u.slice(nm + 14).split('/')
    const pkg = rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]
    const file = rest.slice(rest[0].startsWith('@') ? 2 : 1).join('/')
    return `${pkg}:${file}`
  }
  if (u.startsWith('node:')) return u
  const ws = u.search(/\/(apps|packages|bench)\//)
  return ws !== -1 ? u.slice(ws + 1) : u
}

function packageOf (url) {
  if (!url) return '(native/V8: GC, idle, program)'
  const p = place(url)
  if (p.startsWith('node:')) return 'node: core'
  const colon = p.indexOf(':')
  if (colon !== -1 && !p.startsWith('(')) return p.slice(0, colon)
  const m = /^(apps|packages|bench)\/([^/]+)/.exec(p)
  return m ? `${m[1]}/${m[2]} (workspace)` : p
}

export function summarise (file, top = 25) {
  const profile = JSON.parse(readFileSync(file, 'utf8'))
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map()
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + dt)
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0)
  const fns = new Map()
  const pkgs = new Map()
  let idle = 0
  for (const [id, us] of self) {
    const { callFrame } = byId.get(id)
    const name = callFrame.functionName || '(anonymous)'
    if (name === '(idle)') idle += us
    const key = `${name}  ${place(callFrame.url)}${callFrame.url ? `:${callFrame.lineNumber + 1}` : ''}`
    fns.set(key, (fns.get(key) ?? 0) + us)
    const pkg = name === '(idle)' ? '(idle)' : name === '(garbage collector)' ? '(garbage collector)' : packageOf(callFrame.url)
    pkgs.set(pkg, (pkgs.get(pkg) ?? 0) + us)
  }
  const busy = total - idle
  const pct = (us, of) => `${(100 * us / of).toFixed(1)}%`
  const lines = []
  lines.push(`profile: ${file}`)
  lines.push(`sampled ${(total / 1e6).toFixed(1)} s, busy ${(busy / 1e6).toFixed(1)} s (${pct(busy, total)}); shares below are of busy time`)
  lines.push('', 'self time by package:')
  for (const [k, us] of [...pkgs].filter(([k]) => k !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, 15)) {
    lines.push(`  ${pct(us, busy).padStart(6)}  ${k}`)
  }
  lines.push('', `top ${top} functions by self time:`)
  for (const [k, us] of [...fns].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, top)) {
    lines.push(`  ${pct(us, busy).padStart(6)}  ${k}`)
  }
  return lines.join('\n')
}

/** Self time of function `name`, split by the call stack (up to `depth` frames) that led to it. */
export function callers (file, name, depth = 10, top = 10) {
  const profile = JSON.parse(readFileSync(file, 'utf8'))
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const self = new Map()
  for (let i = 0; i < profile.samples.length; i++) {
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0))
  }
  const stacks = new Map()
  let total = 0
  for (const [id, us] of self) {
    if (byId.get(id).callFrame.functionName !== name) continue
    total += us
    const chain = []
    // Skip node's own stream plumbing: the first frames outside it say who wrote.
    for (let cur = parent.get(id); cur !== undefined && chain.length < depth; cur = parent.get(cur)) {
      const f = byId.get(cur).callFrame
      if (f.url.startsWith('node:')) continue
      chain.push(`${f.functionName || '(anonymous)'} ${place(f.url)}:${f.lineNumber + 1}`)
    }
    const key = chain.join(' < ') || '(no JS caller)'
    stacks.set(key, (stacks.get(key) ?? 0) + us)
  }
  const lines = [`${name}: ${(total / 1e6).toFixed(2)} s self time, by caller:`]
  for (const [k, us] of [...stacks].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    lines.push(`  ${(100 * us / (total || 1)).toFixed(1).padStart(5)}%  ${k}`)
  }
  return lines.join('\n')
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2)
  const callersOf = args.find((a) => a.startsWith('--callers='))?.slice('--callers='.length)
  const [file, top] = args.filter((a) => !a.startsWith('--'))
  if (!file) {
    console.error('usage: node src/profile-summary.mjs <file.cpuprofile> [top] [--callers=<function>]')
    process.exit(2)
  }
  console.log(callersOf ? callers(file, callersOf, 4) : summarise(file, Number(top ?? 25)))
}
