import { describe, expect, it } from 'vitest'
import { nativeModuleUnavailable, nativePlatform } from '@rustic-ts/core/internal'

describe('nativeModuleUnavailable', () => {
  const platform = `${process.platform}-${process.arch}`

  it('names the package, the platform and why, in one line', () => {
    expect(nativePlatform().startsWith(platform)).toBe(true)
    if (process.platform === 'linux') expect(nativePlatform()).toMatch(/ \((glibc \d+\.\d+|musl)\)$/)
    const m = nativeModuleUnavailable('some-addon', new Error("Cannot find module 'some-addon'\nRequire stack:\n- /x.js"))
    expect(m).toBe(`the native package some-addon does not load on ${nativePlatform()}: Cannot find module 'some-addon'`)
  })

  it("takes the last attempt of a loader that lists its attempts as the cause (napi-rs' generated loaders)", () => {
    const e = new Error('Cannot find native binding. npm has a bug ...', {
      cause: [new Error("Cannot find module './x.linux-x64-gnu.node'"), new Error("Cannot find module '@x/lib-linux-x64-gnu'\nRequire stack: ...")],
    })
    expect(nativeModuleUnavailable('x', e)).toBe(`the native package x does not load on ${nativePlatform()}: Cannot find module '@x/lib-linux-x64-gnu'`)
  })
})
