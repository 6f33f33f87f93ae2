export * from './Key.js'
export * from './kdf.js'
export * from './Poly1305.js'
export * from './scryptBytes.js'
