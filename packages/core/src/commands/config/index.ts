export { ConfigOptionsSchema, applyConfigOptions, type ConfigOptions } from './ConfigOptions.js'
export { applyConfig, type ApplyConfigResult } from './applyConfig.js'
export { readStoredConfig, saveConfig } from './saveConfig.js'
