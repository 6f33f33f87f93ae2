export * from './goJson.js'
