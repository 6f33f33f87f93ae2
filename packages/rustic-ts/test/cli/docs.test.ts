import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

/** The project's documentation stands on its own: its links resolve and it cites nothing outside the project. */
const root = fileURLToPath(new URL('../../../../', import.meta.url))
const packages = readdirSync(join(root, 'packages'))
const DOCS = [
  'README.md',
  ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`),
  ...packages.map((p) => `packages/${p}/README.md`).filter((f) => existsSync(join(root, f))),
]

/** Where the project's files are on GitHub (links of this form are checked as relative ones). */
const OWN_BLOB = 'https://github.com/rustic-ts/rustic-ts/blob/main/'

/** Every file under `dir` (recursively) whose name ends with one of `exts`. */
function files(dir: string, exts: string[]): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => exts.some((e) => f.endsWith(e)) && statSync(f).isFile())
}

/** GitHub's anchor of a heading. */
const anchor = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-')

describe('documentation', () => {
  it('cites no internal notes (DESIGN, RESTIC_FORMAT, ../shared) in docs, READMEs or sources', () => {
    const checked = [...DOCS.map((f) => join(root, f)), ...packages.flatMap((p) => files(join(root, 'packages', p, 'src'), ['.ts']))]
    const found = checked.flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .map((line, i) => ({ line, at: `${relative(root, f)}:${i + 1}` }))
        .filter(({ line }) => /DESIGN|RESTIC_FORMAT|\.\.\/shared/.test(line)),
    )
    expect(found.map((x) => `${x.at}: ${x.line.trim()}`)).toEqual([])
  })

  it('every relative link (and link into the project on GitHub) of README.md, docs/*.md and the package READMEs points to an existing file and heading', () => {
    const broken: string[] = []
    for (const doc of DOCS) {
      const text = readFileSync(join(root, doc), 'utf8').replace(/```[\s\S]*?```/g, '')
      for (const [, link] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        // the project's own GitHub links (the package READMEs use them: npm shows them away from the repository)
        const own = link!.startsWith(OWN_BLOB) ? link!.slice(OWN_BLOB.length) : undefined
        const target = own ?? link!
        if ((own === undefined && /^[a-z]+:/.test(target)) || target.startsWith('api/')) continue
        const [path, hash] = target.split('#')
        const file = own !== undefined ? join(root, path!) : path ? join(dirname(join(root, doc)), path) : join(root, doc)
        if (!existsSync(file)) {
          broken.push(`${doc}: ${link}`)
          continue
        }
        if (hash && file.endsWith('.md')) {
          const headings = [...readFileSync(file, 'utf8').matchAll(/^#+ (.*)$/gm)].map((m) => anchor(m[1]!))
          if (!headings.includes(hash)) broken.push(`${doc}: ${link} (no such heading)`)
        }
      }
    }
    expect(broken).toEqual([])
  })

  it('every guide is listed in docs/README.md', () => {
    const index = readFileSync(join(root, 'docs', 'README.md'), 'utf8')
    for (const f of readdirSync(join(root, 'docs')).filter((x) => x.endsWith('.md') && x !== 'README.md')) expect(index, f).toContain(`](${f})`)
  })
})
