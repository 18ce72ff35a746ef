import neostandard from 'neostandard'

export default [
  ...neostandard({
    ts: true,
    filesTs: ['**/*.mts'],
    ignores: ['**/dist/**', '**/node_modules/**', '**/coverage/**', '**/.tap/**', 'packages/db/drizzle/**', 'bench/RESULTS.md']
  }),
  {
    // fastify's line length.
    rules: {
      '@stylistic/max-len': ['error', {
        code: 120,
        ignoreUrls: true,
        ignoreStrings: true,
        ignoreTemplateLiterals: true,
        ignoreRegExpLiterals: true
      }]
    }
  },
  {
    // No package imports an app (README "Layout"): apps are built from packages, never the reverse.
    files: ['packages/**/*.{ts,mts,js,mjs}'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['@fp-webhooks/api', '@fp-webhooks/api/*'], message: 'A package must not import an app (@fp-webhooks/api); move the code into a package.' },
          { group: ['**/apps/*', '**/apps/**'], message: 'A package must not import an app; move the code into a package.' }
        ]
      }]
    }
  }
]
