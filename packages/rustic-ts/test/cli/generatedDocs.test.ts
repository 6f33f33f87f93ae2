import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { ERROR_CODES } from '@rustic-ts/core'
// @ts-expect-error a plain JavaScript module of the docs script
import { errorCodesPage } from '../../../../scripts/errorCodesPage.mjs'
import { buildProgram } from '../../src/cli/program.js'
import { cliReference } from '../../src/cli/reference.js'

/** The generated pages of docs/ match what the program and the error codes are now (`npm run docs:generated` rewrites them). */
const doc = (name: string): string => readFileSync(fileURLToPath(new URL(`../../../../docs/${name}`, import.meta.url)), 'utf8')
const STALE = 'is out of date: run `npm run build && npm run docs:generated` and commit the result'

describe('generated docs', () => {
  it('docs/cli.md is the reference of the commander definitions', () => {
    expect(doc('cli.md'), `docs/cli.md ${STALE}`).toBe(cliReference(buildProgram()))
  })

  it('docs/cli.md covers every command and option', () => {
    const text = doc('cli.md')
    for (const cmd of buildProgram().commands) {
      expect(text).toContain(`### rustic-ts ${cmd.name()}`)
      for (const o of cmd.options) if (!o.hidden) expect(text, `${cmd.name()} ${o.flags}`).toContain(o.flags.replaceAll('|', '\\|'))
    }
  })

  it('docs/error-codes.md lists every code of ERROR_CODES', () => {
    expect(doc('error-codes.md'), `docs/error-codes.md ${STALE}`).toBe(errorCodesPage(ERROR_CODES))
  })
})
