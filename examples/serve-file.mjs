// Serve one file of a snapshot over HTTP as a stream: the file's blobs are read, decrypted and sent
// as the client reads them (no temporary file, never the whole file in memory), and a client that goes
// away stops the reading.
//
// Run: node examples/serve-file.mjs [REPO SNAPSHOT:PATH]   (after npm run build; password in RUSTIC_PASSWORD)
// Without arguments it makes a repository in a temporary directory, backs this folder up, serves one
// of its files on 127.0.0.1 and downloads it once to show it works.
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { fileURLToPath } from 'node:url'
import { isRusticError, openRepository, initRepository } from 'rustic-ts'

/** An HTTP server sending `SNAPSHOT:PATH` of the repository on GET /. */
async function serveFile(indexed, spec) {
  const { node } = await indexed.resolveSnapshotPath(spec)
  if (node.type !== 'file') throw new Error(`${spec} is a ${node.type}, not a file`)
  return createServer(async (req, res) => {
    const stop = new AbortController()
    res.on('close', () => stop.abort()) // the client went away: stop reading blobs
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': String(node.size ?? 0),
      'content-disposition': `attachment; filename="${encodeURIComponent(node.name)}"`,
    })
    try {
      // readFile yields the file's bytes in order, a few blobs read ahead
      await pipeline(Readable.from(indexed.readFile(node, {}, { signal: stop.signal })), res)
    } catch (e) {
      if (!isRusticError(e, 'Aborted') && e?.code !== 'ERR_STREAM_PREMATURE_CLOSE') console.error(`serving ${spec}: ${e.message}`)
      res.destroy()
    }
  })
}

const [repoArg, specArg] = process.argv.slice(2)
if (repoArg !== undefined) {
  // serve a file of your own repository until Ctrl-C
  const repo = await openRepository({}, { repository: repoArg }, { password: process.env.RUSTIC_PASSWORD })
  const server = await serveFile(await repo.toIndexed(), specArg ?? 'latest:/')
  server.listen(8080, '127.0.0.1', () => console.log(`serving ${specArg} on http://127.0.0.1:8080/`))
} else {
  const dir = await mkdtemp(join(tmpdir(), 'rustic-ts-serve-'))
  const credentials = { password: 'example password' }
  try {
    const backendOptions = { repository: join(dir, 'repo') }
    await (await initRepository({ noCache: true }, backendOptions, credentials)).close()
    const repo = await openRepository({ noCache: true }, backendOptions, credentials)
    const indexed = await repo.toIndexed()
    const file = fileURLToPath(import.meta.url)
    const { snapshot } = await indexed.backup([file])

    const server = await serveFile(indexed, `${snapshot.id}:${file}`)
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const url = `http://127.0.0.1:${server.address().port}/`
    const response = await fetch(url)
    const served = Buffer.from(await response.arrayBuffer())
    const sha = (b) => createHash('sha256').update(b).digest('hex')
    const same = sha(served) === sha(await readFile(file))
    console.log(`GET ${url} -> ${response.status}, ${served.length} bytes of ${basename(file)}: ${same ? 'identical to the file' : 'DIFFERENT'}`)
    server.close()
    await repo.close()
    if (!same) process.exitCode = 1
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
