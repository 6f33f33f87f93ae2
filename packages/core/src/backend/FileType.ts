/** The kinds of files in a repository. `pack` files live under `data/XX/`. */
export type FileType = 'config' | 'index' | 'key' | 'snapshot' | 'pack' | 'lock'

/** All file types except `config`, in the order repositories list them. */
export const ALL_FILE_TYPES: readonly FileType[] = ['config', 'key', 'snapshot', 'index', 'pack', 'lock']

/** The directory (or, for `config`, the file name) of each file type inside a repository. */
export const FILE_TYPE_DIR: Readonly<Record<FileType, string>> = {
  config: 'config',
  index: 'index',
  key: 'keys',
  snapshot: 'snapshots',
  pack: 'data',
  lock: 'locks',
}

/** The path of a file relative to the repository root (`data/ab/abcd...` for packs). */
export function filePath(type: FileType, id: string): string {
  if (type === 'config') return 'config'
  if (type === 'pack') return `data/${id.slice(0, 2)}/${id}`
  return `${FILE_TYPE_DIR[type]}/${id}`
}
