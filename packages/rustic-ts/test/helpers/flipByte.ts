import { readFile, writeFile } from 'node:fs/promises'

/** Damages `file` by flipping the lowest bit of the byte at `offset`. */
export async function flipByte(file: string, offset: number): Promise<void> {
  const data = await readFile(file)
  data[offset] = data[offset]! ^ 0x01
  await writeFile(file, data)
}
