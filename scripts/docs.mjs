// Writes the generated pages of docs/ from the built packages (run `npm run build` first):
//   docs/cli.md          the CLI reference, from the commander definitions (rustic-ts generate --cli-reference)
//   docs/error-codes.md  every error code and its meaning, from ERROR_CODES of @rustic-ts/core
// `node scripts/docs.mjs --check` writes nothing and exits 1 when a page is out of date.
// `npm run docs` runs this, then typedoc (the API reference in docs/api).
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { errorCodesPage } from './errorCodesPage.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const check = process.argv.includes('--check')

const { ERROR_CODES } = await import(new URL('../packages/core/dist/index.js', import.meta.url).href)
const pages = {
  'docs/cli.md': execFileSync(process.execPath, [`${root}packages/rustic-ts/dist/cli.js`, 'generate', '--cli-reference'], { encoding: 'utf8' }),
  'docs/error-codes.md': errorCodesPage(ERROR_CODES),
}
let stale = 0
for (const [file, text] of Object.entries(pages)) {
  let old = ''
  try {
    old = readFileSync(`${root}${file}`, 'utf8')
  } catch {}
  if (old === text) continue
  if (check) {
    console.error(`${file} is out of date: run npm run docs:generated`)
    stale++
  } else {
    writeFileSync(`${root}${file}`, text)
    console.log(`wrote ${file}`)
  }
}
process.exitCode = stale > 0 ? 1 : 0
