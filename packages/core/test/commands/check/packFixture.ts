import { compress, hashId, Key, serializePackHeader, type IndexBlob } from '@rustic-ts/core/internal'

/** A pack of `plains` sealed with `key` (every other one compressed), and the index entries that describe it. */
export function makePack(key: Key, plains: Uint8Array[]): { bytes: Uint8Array; entries: IndexBlob[]; id: string } {
  const entries: IndexBlob[] = []
  const parts: Uint8Array[] = []
  let offset = 0
  plains.forEach((plain, i) => {
    const compressed = i % 2 === 1
    const sealed = key.encrypt(compressed ? compress(plain, 3) : plain)
    const e: IndexBlob = { id: hashId(plain), type: 'data', offset, length: sealed.length }
    if (compressed) e.uncompressedLength = plain.length
    entries.push(e)
    parts.push(sealed)
    offset += sealed.length
  })
  const header = key.encrypt(serializePackHeader(entries))
  const len = new Uint8Array(4)
  new DataView(len.buffer).setUint32(0, header.length, true)
  const bytes = new Uint8Array(Buffer.concat([...parts, header, len]))
  return { bytes, entries, id: hashId(bytes) }
}
