export { AddKeyOptionsSchema, addKey, type AddKeyOptions } from './addKey.js'
export { changePassword, type ChangePasswordResult } from './changePassword.js'
export { listKeys, type KeyInfo } from './listKeys.js'
export { removeKey } from './removeKey.js'
