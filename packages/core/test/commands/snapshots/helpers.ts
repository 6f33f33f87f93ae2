import {
  CONFIG_ID,
  formatGoTime,
  hashId,
  MemoryBackend,
  Repository,
  serializeConfig,
  type Id,
  type SnapshotFile,
} from '@rustic-ts/core/internal'

/** Password of the test repositories. */
export const password = 'snapshots-test-pw'

/** A repository in memory with a cheap key; `appendOnly` sets `append_only` in its config. */
export async function memoryRepo(appendOnly = false): Promise<{ backend: MemoryBackend; repo: Repository }> {
  const backend = new MemoryBackend()
  let repo = await Repository.init({}, { repository: backend }, { password }, { kdf: { N: 1024, r: 8, p: 1 } })
  if (appendOnly) {
    await backend.writeBytes('config', CONFIG_ID, false, repo.key.encrypt(serializeConfig({ ...repo.config, appendOnly: true })))
    repo = await Repository.open({}, { repository: backend }, { password })
  }
  return { backend, repo }
}

/** A tree id per name. */
export function treeId(name: string): Id {
  return hashId(new TextEncoder().encode(name))
}

/** A snapshot at `time` (RFC 3339) with defaults for everything else. */
export function snap(time: string, extra: Partial<SnapshotFile> = {}): SnapshotFile {
  return { time, tree: treeId('t'), paths: ['/data'], hostname: 'h', username: 'u', uid: 0, gid: 0, excludes: [], tags: [], ...extra }
}

/** The RFC 3339 time of Unix milliseconds, written at `offsetMinutes`. */
export function timeAt(ms: number, offsetMinutes = 0): string {
  return formatGoTime(BigInt(ms) * 1_000_000n, offsetMinutes)
}

/** Saves snapshots; returns them with their ids. */
export async function saveAll(repo: Repository, snaps: SnapshotFile[]): Promise<SnapshotFile[]> {
  for (const s of snaps) await repo.saveSnapshot(s)
  return snaps
}
