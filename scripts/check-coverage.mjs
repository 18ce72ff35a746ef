#!/usr/bin/env node
// Fails a package's test run when its coverage falls below the floor it states.
// tap 21 has no thresholds of its own (100% or allow-incomplete-coverage), so each package keeps
// `allow-incomplete-coverage`, writes tap's json-summary report, and states its floor in its
// package.json, e.g. "coverageThresholds": { "lines": 95, "branches": 85, "functions": 90 }.
// Run from the package directory after tap: `tap && node ../../scripts/check-coverage.mjs`.
import { readFileSync } from 'node:fs'

const pkg = JSON.parse(readFileSync('package.json', 'utf8'))
const thresholds = pkg.coverageThresholds
if (!thresholds) {
  console.error(`${pkg.name}: no "coverageThresholds" in package.json`)
  process.exit(1)
}
let total
try {
  total = JSON.parse(readFileSync('.tap/report/coverage-summary.json', 'utf8')).total
} catch (err) {
  console.error(`${pkg.name}: no coverage report in .tap/report/coverage-summary.json (${err.message})`)
  process.exit(1)
}
const figures = Object.keys(thresholds).map((metric) => `${metric} ${total[metric]?.pct}%`).join(', ')
const below = Object.entries(thresholds)
  .filter(([metric, floor]) => !(total[metric]?.pct >= floor))
  .map(([metric, floor]) => `${metric} ${total[metric]?.pct ?? 'missing'}% < ${floor}%`)
if (below.length > 0) {
  console.error(`${pkg.name}: coverage below its floor: ${below.join('; ')}`)
  process.exit(1)
}
console.log(`# coverage of ${pkg.name}: ${figures} (floor met)`)
