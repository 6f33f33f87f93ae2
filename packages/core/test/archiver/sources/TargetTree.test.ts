import { describe, expect, it } from 'vitest'
import { goBase, goClean, goDir, goJoin, pathComponents, rootDirectory } from '../../../src/archiver/sources/goPath.js'
import { buildTargetTree, resolveTargets, type TargetTree } from '../../../src/archiver/sources/TargetTree.js'

describe('Go path functions', () => {
  it('goClean (cases from Go path/filepath)', () => {
    const cases: Array<[string, string]> = [
      ['', '.'], ['abc', 'abc'], ['abc/def', 'abc/def'], ['.', '.'], ['..', '..'], ['../..', '../..'], ['../../abc', '../../abc'],
      ['/abc', '/abc'], ['/', '/'], ['abc/', 'abc'], ['abc/def/', 'abc/def'], ['/abc/', '/abc'], ['abc//def//ghi', 'abc/def/ghi'],
      ['//abc', '/abc'], ['///abc', '/abc'], ['abc/./def', 'abc/def'], ['/./abc/def', '/abc/def'], ['abc/.', 'abc'],
      ['abc/def/ghi/../jkl', 'abc/def/jkl'], ['abc/def/../ghi/../jkl', 'abc/jkl'], ['abc/def/..', 'abc'], ['abc/def/../..', '.'],
      ['/abc/def/../..', '/'], ['abc/def/../../..', '..'], ['/abc/def/../../..', '/'], ['abc/def/../../../ghi/jkl/../../../mno', '../../mno'],
      ['/../abc', '/abc'], ['abc/./../def', 'def'], ['abc//./../def', 'def'], ['abc/../../././../def', '../../def'],
    ]
    for (const [p, want] of cases) expect([p, goClean(p)]).toEqual([p, want])
  })

  it('goDir, goBase, goJoin', () => {
    expect([goDir('/a/b'), goDir('a'), goDir('/a'), goDir('/'), goDir('a/b/'), goDir('..')]).toEqual(['/a', '.', '/', '/', 'a/b', '.'])
    expect([goBase('/a/b'), goBase('a/'), goBase('/'), goBase('')]).toEqual(['b', 'a', '/', '.'])
    expect([goJoin('/', 'x'), goJoin('.', 'x'), goJoin('a', '', 'b'), goJoin('', '')]).toEqual(['/x', 'x', 'a/b', ''])
  })

  it('pathComponents and rootDirectory (restic tree_test.go)', () => {
    expect(pathComponents('/foo/bar/baz', false)).toEqual(['foo', 'bar', 'baz'])
    expect(pathComponents('/foo/bar/baz', true)).toEqual(['foo', 'bar', 'baz'])
    expect(pathComponents('foo/bar/baz', false)).toEqual(['foo', 'bar', 'baz'])
    expect(pathComponents('../foo/bar/baz', false)).toEqual(['foo', 'bar', 'baz'])
    expect(pathComponents('../foo/bar/baz', true)).toEqual(['..', 'foo', 'bar', 'baz'])
    expect(pathComponents('.', false)).toEqual([])
    const roots: Array<[string, string]> = [['.', '.'], ['foo/bar/baz', '.'], ['../foo/bar/baz', '..'], ['..', '..'], ['../../..', '../../..'], ['/home/foo', '/']]
    for (const [target, root] of roots) expect(rootDirectory(target)).toBe(root)
  })
})

function shape(t: TargetTree): unknown {
  return Object.fromEntries(
    [...t.nodes].map(([name, n]) => [name, { ...(n.path !== undefined && { path: n.path }), ...(n.fileInfoPath !== undefined && { meta: n.fileInfoPath }), ...(n.nodes.size > 0 && { nodes: shape(n) }) }]),
  )
}

describe('the target tree (restic NewTree)', () => {
  it('absolute targets share ancestors; nested targets stay leaves with children', () => {
    expect(shape(buildTargetTree(['/a/b/c', '/a/b/d/', '/a/x', '/a/b/c']))).toEqual({
      a: { meta: '/a', nodes: { b: { meta: '/a/b', nodes: { c: { path: '/a/b/c' }, d: { path: '/a/b/d' } } }, x: { path: '/a/x' } } },
    })
    expect(shape(buildTargetTree(['/a/b', '/a/b/c']))).toEqual({ a: { meta: '/a', nodes: { b: { path: '/a/b', meta: '/a/b', nodes: { c: { path: '/a/b/c' } } } } } })
  })

  it('names from different roots get suffixes (restic TestTree cases)', () => {
    expect(shape(buildTargetTree(['foo', 'other/foo']))).toEqual({ foo: { path: 'foo' }, other: { meta: 'other', nodes: { foo: { path: 'other/foo' } } } })
    expect(shape(buildTargetTree(['../work', 'work']))).toEqual({ work: { path: '../work' }, 'work-1': { path: 'work' } })
    expect(shape(buildTargetTree(['foo/user1', '../foo/other', 'foo/user2']))).toEqual({
      foo: { meta: 'foo', nodes: { user1: { path: 'foo/user1' }, user2: { path: 'foo/user2' } } },
      'foo-1': { meta: '../foo', nodes: { other: { path: '../foo/other' } } },
    })
  })

  it('`.`, `..` and `/` are replaced by their entries, sorted by bytes', async () => {
    const list = async (dir: string): Promise<string[]> => ({ '.': ['b', 'a'], '..': ['x'], '/': ['\xff', 'é'] })[dir] ?? []
    expect(await resolveTargets(['./', 'c/../d', '..', '/'], list)).toEqual(['a', 'b', 'd', '../x', '/é', '/\xff'])
  })
})
