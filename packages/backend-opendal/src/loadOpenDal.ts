import { createRequire } from 'node:module'
import { RusticError } from '@rustic-ts/core'
import { nativeModuleUnavailable } from '@rustic-ts/core/internal'

/** The part of the `opendal` binding this package uses. */
export type OpenDalModule = Pick<typeof import('opendal'), 'Operator' | 'RetryLayer'>

/** What `require('opendal')` gives (its CommonJS entry has the layers under `layers`). */
interface OpenDalCommonJs {
  Operator: OpenDalModule['Operator']
  layers: { RetryLayer: OpenDalModule['RetryLayer'] }
}

let loaded: { module: OpenDalModule } | { error: string } | undefined

/**
 * The `opendal` binding, loaded on first use (importing this package loads no native code, so an app
 * that never opens an OpenDAL backend works where opendal has no binary).
 * @throws RusticError `Unsupported`/`NativeModuleUnavailable`, one line naming the package and platform, where it does not load.
 */
export function loadOpenDal(): OpenDalModule {
  if (loaded === undefined) {
    try {
      const m = createRequire(import.meta.url)('opendal') as OpenDalCommonJs
      loaded = { module: { Operator: m.Operator, RetryLayer: m.layers.RetryLayer } }
    } catch (e) {
      loaded = { error: nativeModuleUnavailable('opendal', e) }
    }
  }
  if ('error' in loaded) {
    throw new RusticError('Unsupported', `OpenDAL backends are not available: ${loaded.error}`, { code: 'NativeModuleUnavailable' })
  }
  return loaded.module
}
