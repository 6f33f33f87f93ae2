import { spawn } from 'node:child_process'
import { hostname } from 'node:os'
import {
  MemoryBackend,
  Repository,
  goTimeFromDate,
  parseLock,
  serializeLock,
  type LockFile,
  type RepositoryOptions,
  type WriteBackend,
} from '@rustic-ts/core/internal'

/** Password of the test repositories. */
export const password = 'lock-test-pw'

/** Cheap scrypt parameters for test keys. */
export const fastKdf = { N: 1024, r: 8, p: 1 }

/** Lock timing for tests: fast rechecks and retries (refreshes as given). */
export const fastTiming = { recheckDelayMs: 20, retrySleepStartMs: 20, retrySleepMaxMs: 50 }

/** A new repository in memory and a function opening it again (another client of the same storage). */
export async function memoryRepo(backend: WriteBackend = new MemoryBackend()): Promise<{
  backend: WriteBackend
  repo: Repository
  open: (options?: RepositoryOptions) => Promise<Repository>
}> {
  const repo = await Repository.init({}, { repository: backend }, { password }, { kdf: fastKdf })
  return { backend, repo, open: (options = {}) => Repository.open(options, { repository: backend }, { password }) }
}

/** The decoded lock files of a repository. */
export async function lockFiles(repo: Repository): Promise<Array<{ id: string; lock: LockFile }>> {
  const ids = await repo.backend.list('lock')
  return Promise.all(ids.map(async (id) => ({ id, lock: parseLock(await repo.dbe.readEncryptedFull('lock', id), 'lock') })))
}

/** Writes a lock file as another client would; returns its id. */
export async function plantLock(repo: Repository, lock: Partial<LockFile> & { ageMs?: number } = {}): Promise<string> {
  const { ageMs = 0, ...fields } = lock
  const file: LockFile = {
    time: goTimeFromDate(new Date(Date.now() - ageMs)),
    exclusive: false,
    hostname: 'other-host',
    username: 'someone',
    pid: 4242,
    ...fields,
  }
  return repo.dbe.saveFile('lock', serializeLock(file))
}

/** The pid of a process that has exited (on this host). */
export async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' })
  await new Promise((resolve) => child.once('exit', resolve))
  return child.pid!
}

/** This host's name. */
export const thisHost = hostname()
