/** Types of manyFiles.mjs, for the tests that build the same data sets. */
export interface ManyFilesSet {
  name: 'small' | 'empty'
  files: number
  dirs: number
  maxSize: number
}
export function manyFilesSets(scale: number): ManyFilesSet[]
export function makeSet(root: string, files: number, dirs: number, maxSize: number): void
