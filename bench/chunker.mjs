// Chunker throughput: chunks 256 MiB of random bytes held in memory, single-threaded, with restic's
// default sizes, once with each engine (WebAssembly hot loop, the default; plain JavaScript).
// Run: npm run build -w @rustic-ts/core && node bench/chunker.mjs [MiB]
// (RUSTIC_CORE=/path/to/module.js overrides the module the chunker is imported from; the chunker is
// not part of the stable API, so it comes from @rustic-ts/core/internal.)
import { randomFillSync } from 'node:crypto'

const core = await import(process.env.RUSTIC_CORE ?? new URL('../packages/core/dist/internal.js', import.meta.url).href)
const { Chunker, ChunkerState, randomPolynomial } = core

const mib = Number(process.argv[2] ?? 256)
const size = mib * 1024 * 1024
const data = new Uint8Array(size)
for (let off = 0; off < size; off += 1 << 24) randomFillSync(data, off, Math.min(1 << 24, size - off))

const pol = randomPolynomial()

// Wall-clock MiB/s, and MiB/s per CPU-second (a fairer figure when other processes share the CPU).
async function timeIt(name, fn) {
  let best = Infinity
  let bestCpu = Infinity
  let chunks = 0
  for (let run = 0; run < 3; run++) {
    const t0 = process.hrtime.bigint()
    const c0 = process.cpuUsage()
    chunks = await fn()
    const c = process.cpuUsage(c0)
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9)
    bestCpu = Math.min(bestCpu, (c.user + c.system) / 1e6)
  }
  const rate = (s) => (mib / s).toFixed(0).padStart(5)
  console.log(`${name.padEnd(50)} ${rate(best)} MiB/s  ${rate(bestCpu)} MiB/cpu-s  (${chunks} chunks)`)
}

console.log(`node ${process.version}, ${mib} MiB of random data, best of 3 runs, load average ${(await import('node:os')).loadavg()[0].toFixed(2)}`)
for (const engine of ['wasm', 'js']) {
  const chunker = new Chunker(pol, { engine })
  chunker.split(data.subarray(0, Math.min(size, 32 << 20))) // warm-up (JIT)

  await timeIt(`[${engine}] Chunker.split (one buffer, zero-copy)`, () => chunker.split(data).length)
  await timeIt(`[${engine}] ChunkerState.findCut over 1 MiB reads`, () => {
    const st = new ChunkerState(pol, { engine })
    let n = 0
    for (let off = 0; off < size; off += 1 << 20) {
      const buf = data.subarray(off, Math.min(size, off + (1 << 20)))
      let pos = 0
      while ((pos = st.findCut(buf, pos, buf.length)) >= 0) n++
    }
    return n + (st.finish() > 0 ? 1 : 0)
  })
  await timeIt(`[${engine}] Chunker.chunks (async, 4 MiB reads)`, async () => {
    async function* reads() {
      for (let off = 0; off < size; off += 4 << 20) yield data.subarray(off, Math.min(size, off + (4 << 20)))
    }
    let n = 0
    for await (const c of chunker.chunks(reads())) n += c.length > 0 ? 1 : 0
    return n
  })
}
