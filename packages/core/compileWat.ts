import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Core's WebAssembly modules: `src/crypto/<name>.wat`, compiled (by wabt) to `<name>.wasm` beside the built code. */
export const WASM_MODULES = ['romix']

/**
 * Compiles core's WebAssembly text sources ({@link WASM_MODULES}) into `distDir` (an absolute path): run by the
 * builds of core and of the CLI, whose code loads them from beside itself.
 */
export async function compileWat(distDir: string): Promise<void> {
  const wabt = await (await import('wabt')).default()
  for (const name of WASM_MODULES) {
    const source = fileURLToPath(new URL(`./src/crypto/${name}.wat`, import.meta.url))
    const module = wabt.parseWat(`${name}.wat`, await readFile(source, 'utf8'))
    try {
      module.validate()
      const target = `${distDir}/${name}.wasm`
      await mkdir(dirname(target), { recursive: true })
      await writeFile(target, module.toBinary({}).buffer)
    } finally {
      module.destroy()
    }
  }
}
