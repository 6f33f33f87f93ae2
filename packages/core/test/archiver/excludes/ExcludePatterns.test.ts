import { spawnSync } from 'node:child_process'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  CACHEDIR_TAG_SPEC,
  ExcludePatterns,
  expandGoEnv,
  hasExclusionTag,
  LocalSource,
  oneFileSystemAllows,
  parseExclusionTag,
  readExcludeFile,
  type LocalSourceOptions,
} from '@rustic-ts/core/internal'
import { collect, tempDir } from '../sources/helpers.js'

// restic 0.14 internal/filter/filter_test.go: matchTests (patterns that List uses: no empty ones)
const matchTests: Array<[string, string, boolean]> = [
  ['*.go', '/foo/bar/test.go', true],
  ['*.c', '/foo/bar/test.go', false],
  ['*', '/foo/bar/test.go', true],
  ['**', '/foo/bar/test.go', true],
  ['foo*', '/foo/bar/test.go', true],
  ['bar*', '/foo/bar/test.go', true],
  ['/bar*', '/foo/bar/test.go', false],
  ['bar/*', '/foo/bar/test.go', true],
  ['baz/*', '/foo/bar/test.go', false],
  ['bar/test.go', '/foo/bar/test.go', true],
  ['bar/*.go', '/foo/bar/test.go', true],
  ['ba*/*.go', '/foo/bar/test.go', true],
  ['bb*/*.go', '/foo/bar/test.go', false],
  ['test.*', '/foo/bar/test.go', true],
  ['tesT.*', '/foo/bar/test.go', false],
  ['bar/*', '/foo/bar/baz', true],
  ['bar', '/foo/bar', true],
  ['/foo/bar', '/foo/bar', true],
  ['/foo/bar/', '/foo/bar', true],
  ['/foo/bar', '/foo/baz', false],
  ['/foo/bar', '/foo/baz/', false],
  ['/foo///bar', '/foo/bar', true],
  ['/foo/../bar', '/foo/bar', false],
  ['/foo/../bar', '/bar', true],
  ['/foo', '/foo/baz', true],
  ['/foo/', '/foo/baz', true],
  ['/foo/*', '/foo', false],
  ['/foo/*', '/foo/baz', true],
  ['bar', '/foo/bar/baz', true],
  ['bar', '/foo/bar/test.go', true],
  ['/foo/*test.*', '/foo/bar/test.go', false],
  ['/foo/*/test.*', '/foo/bar/test.go', true],
  ['/foo/*/bar/test.*', '/foo/bar/test.go', false],
  ['/*/*/bar/test.*', '/foo/bar/test.go', false],
  ['/*/*/bar/test.*', '/foo/bar/baz/test.go', false],
  ['/*/*/baz/test.*', '/foo/bar/baz/test.go', true],
  ['/*/foo/bar/test.*', '/foo/bar/baz/test.go', false],
  ['/foo/bar/test.*', 'bar/baz/test.go', false],
  ['/x/y/bar/baz/test.*', 'bar/baz/test.go', false],
  ['/x/y/bar/baz/test.c', 'bar/baz/test.go', false],
  ['baz/test.*', 'bar/baz/test.go', true],
  ['baz/tesT.*', 'bar/baz/test.go', false],
  ['test.go', 'bar/baz/test.go', true],
  ['*.go', 'bar/baz/test.go', true],
  ['*.c', 'bar/baz/test.go', false],
  ['sdk', '/foo/bar/sdk', true],
  ['sdk', '/foo/bar/sdk/test/sdk_foo.go', true],
  ['sdk/*/cpp/*/*vars*.html', '/usr/share/doc/libreoffice/sdk/docs/cpp/ref/a00517.html', false],
  ['foo/**/bar/*.go', '/home/user/foo/work/special/project/bar/test.go', true],
  ['foo/**/bar/*.go', '/home/user/foo/bar/test.go', true],
  ['foo/**/bar/*.go', 'x/foo/bar/test.go', true],
  ['foo/**/bar/*.go', 'foo/bar/test.go', true],
  ['foo/**/bar/*.go', 'foo/bar/baz/bar/test.go', true],
  ['foo/**/bar/*.go', '/home/user/foo/test.c', false],
  ['foo/**/bar/*.go', 'bar/foo/main.go', false],
  ['foo/**/bar/*.go', '/foo/bar/main.go', true],
  ['foo/**/bar/*.go', 'bar/main.go', false],
  ['foo/**/bar', '/home/user/foo/x/y/bar', true],
  ['foo/**/bar', '/home/user/foo/x/y/bar/main.go', true],
  ['foo/**/bar/**/x', '/home/user/foo/bar/x', true],
  ['foo/**/bar/**/x', '/home/user/foo/blaaa/blaz/bar/shared/work/x', true],
  ['user/**/important*', '/home/user/work/x/y/hidden/x', false],
  ['user/**/hidden*/**/c', '/home/user/work/x/y/hidden/z/a/b/c', true],
  ['c:/foo/*test.*', 'c:/foo/bar/test.go', false],
  ['c:/foo', 'c:/foo/bar', true],
  ['c:/foo/', 'c:/foo/bar', true],
  ['c:/foo/*/test.*', 'c:/foo/bar/test.go', true],
  ['c:/foo/*/bar/test.*', 'c:/foo/bar/test.go', false],
]

// restic 0.14 internal/filter/filter_test.go: filterListTests (negation)
const listTests: Array<[string[], string, boolean]> = [
  [[], '/foo/bar/test.go', false],
  [['*.go'], '/foo/bar/test.go', true],
  [['*.go'], '/foo/bar', false],
  [['*.go', '*.c'], '/foo/bar/test.go', true],
  [['?'], '/foo/bar/test.go', false],
  [['?', 'x'], '/foo/bar/x', true],
  [['', '*.c'], '/foo/bar/test.go', false],
  [['!**', '*.go'], '/foo/bar/test.go', true],
  [['/foo/*/test.*', '!*.c'], '/foo/bar/test.c', false],
  [['/foo/*/test.*', '!*.c'], '/foo/bar/test.go', true],
  [['/foo/*/*', '!test.*', '*.c'], '/foo/bar/test.go', false],
  [['/foo/*/*', '!test.*', '*.c'], '/foo/bar/test.c', true],
  [['/foo/*/*', '!test.*', '*.c'], '/foo/bar/file.go', true],
  [['/**/*', '!/foo', '/foo/*', '!/foo/bar'], '/foo/other/test.go', true],
  [['/**/*', '!/foo', '/foo/*', '!/foo/bar'], '/foo/bar', false],
  [['/**/*', '!/foo', '/foo/*', '!/foo/bar', '/foo/bar/test*'], '/foo/bar/test.go/child', true],
  [['/foo/bar/*', '!/foo/bar/[a-m]*'], '/foo', false],
  [['/foo/**/test.c'], '/foo/bar/foo/bar/test.c', true],
  [['/foo/*/test.c'], '/foo/bar/foo/bar/test.c', false],
]

describe('ExcludePatterns (restic filter semantics)', () => {
  it.each(matchTests)('%s on %s: %s', (pattern, path, want) => {
    expect(new ExcludePatterns([pattern]).matches(path)).toBe(want)
  })

  it.each(listTests)('%j on %s: %s', (patterns, path, want) => {
    expect(new ExcludePatterns(patterns).matches(path)).toBe(want)
  })

  it('Go glob syntax inside an element; picomatch extras are literal', () => {
    const m = (p: string, s: string): boolean => new ExcludePatterns([p]).matches(s)
    expect(m('[a-c]x', '/bx')).toBe(true)
    expect(m('[^a-c]x', '/bx')).toBe(false)
    expect(m('[^a-c]x', '/dx')).toBe(true)
    expect(m('[!a]x', '/!x')).toBe(true) // Go: `!` in a class is literal
    expect(m('[!a]x', '/bx')).toBe(false)
    expect(m('f(o)o', '/f(o)o')).toBe(true)
    expect(m('{a,b}', '/a')).toBe(false)
    expect(m('{a,b}', '/{a,b}')).toBe(true)
    expect(m('a+(b)', '/a+(b)')).toBe(true)
    expect(m('\\*', '/*')).toBe(true)
    expect(m('\\*', '/x')).toBe(false)
    expect(m('*', '/.hidden')).toBe(true)
    expect(m('?.txt', '/ü.txt')).toBe(true)
    expect(m('b*ash', '/bin/ash')).toBe(false)
  })

  it('case-insensitive patterns (iexclude)', () => {
    expect(new ExcludePatterns(['*.JPG'], { ignoreCase: true }).matches('/a/B.jpg')).toBe(true)
    expect(new ExcludePatterns(['/HOME/x'], { ignoreCase: true }).matches('/home/X/y')).toBe(true)
    expect(new ExcludePatterns(['*.JPG']).matches('/a/B.jpg')).toBe(false)
  })

  it('malformed patterns are refused', () => {
    expect(() => new ExcludePatterns(['a[b'])).toThrow(/invalid exclude pattern "a\[b"/)
    expect(() => new ExcludePatterns(['a\\'])).toThrow(/invalid exclude pattern/)
  })
})

describe('exclude files and tags', () => {
  let dir: string
  beforeAll(async () => {
    dir = await tempDir('excl')
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('expandGoEnv is Go os.Expand with restic $$', () => {
    const env: Record<string, string> = { HOME: '/home/me', X_1: 'x' }
    const map = (n: string): string => (n === '$' ? '$' : (env[n] ?? ''))
    expect(expandGoEnv('$HOME/foo', map)).toBe('/home/me/foo')
    expect(expandGoEnv('${HOME}x/$X_1.y', map)).toBe('/home/mex/x.y')
    expect(expandGoEnv('a$$b', map)).toBe('a$b')
    expect(expandGoEnv('$UNSET/a', map)).toBe('/a')
    expect(expandGoEnv('a${}b${c', map)).toBe('abc') // Go eats `${}` and `${`
    expect(expandGoEnv('a$', map)).toBe('a$')
    expect(expandGoEnv('$-x', map)).toBe('x')
  })

  it('readExcludeFile: trims, skips comments and blanks, expands variables, strips a BOM', async () => {
    const f = join(dir, 'ex.txt')
    await writeFile(f, '\ufeff# comment\n\n  *.go  \r\n$HOME/x\n  # indented comment\nfoo bar star.txt\nprice$$\n')
    expect(await readExcludeFile(f, { HOME: '/h' })).toEqual(['*.go', '/h/x', 'foo bar star.txt', 'price$'])
    await writeFile(f, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a\nb\n', 'utf16le')]))
    expect(await readExcludeFile(f)).toEqual(['a', 'b'])
    await expect(readExcludeFile(join(dir, 'missing'))).rejects.toThrow(/cannot read exclude file/)
  })

  it('parseExclusionTag', () => {
    expect(parseExclusionTag('.nobackup')).toEqual({ name: '.nobackup' })
    expect(parseExclusionTag('x:')).toEqual({ name: 'x' })
    const t = parseExclusionTag(CACHEDIR_TAG_SPEC)
    expect(t.name).toBe('CACHEDIR.TAG')
    expect(Buffer.from(t.header!).toString()).toBe('Signature: 8a477f597d28d172789f06886806bc55')
    expect(() => parseExclusionTag('')).toThrow()
    expect(() => parseExclusionTag(':abc')).toThrow()
  })

  it('hasExclusionTag checks presence and header', async () => {
    const d = join(dir, 'tagged')
    await mkdir(d, { recursive: true })
    const tag = parseExclusionTag(CACHEDIR_TAG_SPEC)
    const warnings: string[] = []
    expect(await hasExclusionTag(Buffer.from(d), tag, undefined, (w) => warnings.push(w))).toBe(false)
    await writeFile(join(d, 'CACHEDIR.TAG'), 'Signature: 8a477f597d28d172789f06886806bc55\n# comment')
    expect(await hasExclusionTag(Buffer.from(d), tag)).toBe(true)
    expect(await hasExclusionTag(Buffer.from(d), tag, new Set(['other']))).toBe(false)
    await writeFile(join(d, 'CACHEDIR.TAG'), 'Signature: wrong')
    expect(await hasExclusionTag(Buffer.from(d), tag, undefined, (w) => warnings.push(w))).toBe(false)
    expect(warnings).toEqual([expect.stringMatching(/too short/)])
    await writeFile(join(d, 'CACHEDIR.TAG'), 'Signature: 8a477f597d28d172789f06886806bc5X')
    expect(await hasExclusionTag(Buffer.from(d), tag, undefined, (w) => warnings.push(w))).toBe(false)
    expect(warnings[1]).toMatch(/invalid signature/)
    expect(await hasExclusionTag(Buffer.from(d), parseExclusionTag('CACHEDIR.TAG'))).toBe(true)
  })
})

describe('LocalSource excludes, one kind at a time', () => {
  let dir: string
  const paths = async (options: LocalSourceOptions, sources = ['.']): Promise<string[]> =>
    (await collect(new LocalSource(sources, { cwd: dir, ...options }))).entries.map((e) => e.path)

  beforeAll(async () => {
    dir = await tempDir('exkinds')
    await mkdir(join(dir, 'a', 'cache', 'x'), { recursive: true })
    await mkdir(join(dir, 'a', 'nb', 'y'), { recursive: true })
    await mkdir(join(dir, 'b'), { recursive: true })
    await writeFile(join(dir, 'a', 'cache', 'CACHEDIR.TAG'), 'Signature: 8a477f597d28d172789f06886806bc55')
    await writeFile(join(dir, 'a', 'cache', 'x', 'c.bin'), 'c')
    await writeFile(join(dir, 'a', 'nb', '.nobackup'), '')
    await writeFile(join(dir, 'a', 'nb', 'y', 'n.txt'), 'n')
    await writeFile(join(dir, 'a', 'Photo.JPG'), 'jpg')
    await writeFile(join(dir, 'b', 'big'), 'x'.repeat(2000))
    await writeFile(join(dir, 'b', 'small'), 'x'.repeat(1000))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  const all = ['a', 'a/Photo.JPG', 'a/cache', 'a/cache/CACHEDIR.TAG', 'a/cache/x', 'a/cache/x/c.bin', 'a/nb', 'a/nb/.nobackup', 'a/nb/y', 'a/nb/y/n.txt', 'b', 'b/big', 'b/small']
  const without = (...gone: string[]): string[] => all.filter((p) => !gone.some((g) => p === g || p.startsWith(g + '/')))

  it('no excludes', async () => {
    expect(await paths({})).toEqual(all)
  })
  it('excludes: names at any depth, anchored paths, directories with their contents', async () => {
    expect(await paths({ excludes: ['x'] })).toEqual(without('a/cache/x'))
    expect(await paths({ excludes: [join(dir, 'a') + '/*'] })).toEqual(['a', 'b', 'b/big', 'b/small'])
    expect(await paths({ excludes: ['/a'] })).toEqual(all)
    expect(await paths({ excludes: ['*.jpg'] })).toEqual(all)
    expect(await paths({ excludes: ['a/**/n.txt', 'big'] })).toEqual(without('a/nb/y/n.txt', 'b/big'))
    expect(await paths({ excludes: [`${dir}/*/*`, `!${dir}/a/Photo.JPG`] })).toEqual(['a', 'a/Photo.JPG', 'b'])
    expect(await paths({ excludes: ['*', '!a'] })).toEqual(without('b')) // `a` matches every path below it too
  })
  it('iexcludes', async () => {
    expect(await paths({ iexcludes: ['*.jpg', 'CACHE'] })).toEqual(without('a/Photo.JPG', 'a/cache'))
  })
  it('excludeFiles and iexcludeFiles', async () => {
    const f = join(dir, '..', `${dir.split('/').pop()}-ex.txt`)
    await writeFile(f, '# x\nnb\n')
    const g = join(dir, '..', `${dir.split('/').pop()}-iex.txt`)
    await writeFile(g, 'PHOTO.*\n')
    try {
      expect(await paths({ excludeFiles: [f], iexcludeFiles: [g] })).toEqual(without('a/nb', 'a/Photo.JPG'))
    } finally {
      await rm(f)
      await rm(g)
    }
  })
  it('excludeIfPresent and excludeCaches keep the directory and its tag file', async () => {
    expect(await paths({ excludeIfPresent: ['.nobackup'] })).toEqual(without('a/nb/y'))
    expect(await paths({ excludeCaches: true })).toEqual(without('a/cache/x'))
    expect(await paths({ excludeIfPresent: ['.nobackup:wrong header'] })).toEqual(all)
  })
  it('a source path inside a tagged directory is excluded itself (its ancestors stay, as in restic)', async () => {
    expect(await paths({ excludeIfPresent: ['.nobackup'] }, ['a/nb/y'])).toEqual(['a', 'a/nb'])
    expect(await paths({ excludeIfPresent: ['.nobackup'] }, ['a/nb/.nobackup'])).toEqual(['a', 'a/nb', 'a/nb/.nobackup'])
  })
  it('excludeLargerThan: files only, bytes or restic sizes', async () => {
    expect(await paths({ excludeLargerThan: 1500 })).toEqual(without('b/big'))
    expect(await paths({ excludeLargerThan: '1k' })).toEqual(without('b/big'))
    expect(await paths({ excludeLargerThan: 0 })).toEqual(['a', 'a/cache', 'a/cache/x', 'a/nb', 'a/nb/.nobackup', 'a/nb/y', 'b'])
  })
  it('size() honours the excludes', async () => {
    expect(await new LocalSource(['.'], { cwd: dir, excludes: ['b'] }).size()).toEqual({ files: 5, bytes: 3 + 43 + 1 + 0 + 1 })
  })
})

describe('one file system', () => {
  it('the st_dev rule', () => {
    expect(oneFileSystemAllows(1n, false, 1n, 1n)).toBe(true)
    expect(oneFileSystemAllows(2n, false, 1n, 1n)).toBe(false)
    expect(oneFileSystemAllows(2n, true, 1n, 1n)).toBe(true) // a mount point
    expect(oneFileSystemAllows(2n, true, 1n, 2n)).toBe(false) // a directory inside another file system
  })

  it('keeps mount points below a source as empty directories (/dev/shm is a tmpfs inside devtmpfs /dev)', async () => {
    const r = spawnSync('stat', ['-c', '%d', '/dev', '/dev/shm'], { encoding: 'utf8' })
    const [devDev, shmDev] = r.stdout.trim().split('\n')
    if (r.status !== 0 || devDev === shmDev) return // not the layout this test needs
    const mine = `/dev/shm/rustic-ts-ofs-${process.pid}`
    await writeFile(mine, 'x')
    try {
      const crossing = (await collect(new LocalSource(['/dev/shm'], { excludes: ['/dev/shm/*', `!${mine}`] }))).entries.map((e) => e.path)
      expect(crossing).toEqual(['/dev', '/dev/shm', mine])
      const { entries } = await collect(new LocalSource(['/dev'], { oneFileSystem: true, excludes: ['/dev/*', '!/dev/shm', '!/dev/null'] }))
      expect(entries.map((e) => e.path)).toEqual(['/dev', '/dev/null', '/dev/shm'])
      expect(entries[1]!.node.type).toBe('chardev')
      // the source path itself may lie on any file system
      const own = (await collect(new LocalSource(['/dev/shm'], { oneFileSystem: true, excludes: ['/dev/shm/*', `!${mine}`] }))).entries
      expect(own.map((e) => e.path)).toEqual(['/dev', '/dev/shm', mine])
    } finally {
      await rm(mine, { force: true })
    }
  })
})

describe('LocalSource option validation', () => {
  it('bad patterns, tags and sizes are refused at construction', () => {
    expect(() => new LocalSource(['.'], { excludes: ['a[b'] })).toThrow(/invalid exclude pattern/)
    expect(() => new LocalSource(['.'], { iexcludes: ['x\\'] })).toThrow(/invalid exclude pattern/)
    expect(() => new LocalSource(['.'], { excludeIfPresent: [':x'] })).toThrow(/no name/)
    expect(() => new LocalSource(['.'], { excludeLargerThan: '12Q' })).toThrow(/invalid size/)
    expect(() => new LocalSource([''])).toThrow(/empty/)
  })

  it('a missing exclude file fails the walk', async () => {
    await expect(collect(new LocalSource(['.'], { excludeFiles: ['/nonexistent/excludes'] }))).rejects.toThrow(/cannot read exclude file/)
  })
})
