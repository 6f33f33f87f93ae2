// zstd providers that load here (Node's own, zstd-napi, the prebuilt @toondepauw/node-zstd; fzstd decompresses
// only): compress at level 3 and decompress, on 1 MiB blobs (data chunks) and 4 KiB blobs (small trees),
// in MiB per CPU-second (the fairer figure when other processes share the CPU) and wall MiB/s, plus the
// ratio. Data: text and binaries from node_modules. Usage: node bench/zstd.mjs [MiB]   (after npm run build)
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { zstdProviders } from '@rustic-ts/core'
import { ROOT } from './lib.mjs'

const MIB = Number(process.argv[2] ?? 32)

/** About `limit` bytes of JavaScript, JSON, text and native binaries from node_modules. */
function corpus(limit) {
  const parts = []
  let n = 0
  const walk = (dir) => {
    for (const e of readdirSync(dir)) {
      if (n >= limit) return
      const p = join(dir, e)
      let s
      try {
        s = statSync(p)
      } catch {
        continue
      }
      if (s.isDirectory()) walk(p)
      else if (/\.(js|ts|json|md|node|wasm)$/.test(e) && s.size > 0) {
        parts.push(readFileSync(p))
        n += s.size
      }
    }
  }
  walk(join(ROOT, 'node_modules'))
  return Buffer.concat(parts).subarray(0, limit)
}

const data = corpus(MIB << 20)
const sets = {
  '1 MiB': Array.from({ length: Math.ceil(data.length / (1 << 20)) }, (_, i) => data.subarray(i << 20, (i + 1) << 20)),
  '4 KiB': Array.from({ length: Math.min(1024, data.length >> 12) }, (_, i) => data.subarray(i << 12, (i + 1) << 12)),
}
const cpu = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1e6
}
const reference = zstdProviders().find((p) => p.compresses !== false)
console.log(`Node ${process.version}; ${(data.length / 1048576).toFixed(0)} MiB; MiB per CPU-second (wall MiB/s)`)
for (const p of zstdProviders()) {
  const row = [p.name.padEnd(24)]
  for (const [label, blobs] of Object.entries(sets)) {
    const mib = blobs.reduce((n, b) => n + b.length, 0) / 1048576
    const writer = p.compresses === false ? reference : p
    let c = cpu()
    let w = performance.now()
    const frames = blobs.map((b) => writer.compress(b, 3))
    const cs = cpu() - c
    const cw = (performance.now() - w) / 1000
    const ratio = frames.reduce((n, f) => n + f.length, 0) / 1048576 / mib
    c = cpu()
    w = performance.now()
    frames.forEach((f, i) => {
      if (p.decompress(f, blobs[i].length).length !== blobs[i].length) throw new Error(`${p.name}: wrong length`)
    })
    const ds = cpu() - c
    const dw = (performance.now() - w) / 1000
    const comp = p.compresses === false ? 'compress -' : `compress ${(mib / cs).toFixed(0)} (${(mib / cw).toFixed(0)})`
    row.push(`${label}: ${comp}, decompress ${(mib / ds).toFixed(0)} (${(mib / dw).toFixed(0)}), ratio ${ratio.toFixed(3)}`)
  }
  console.log(row.join(' | '))
}
