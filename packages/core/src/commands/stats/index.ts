export { StatsModeSchema, StatsOptionsSchema, stats, type StatsMode, type StatsOptions, type StatsResult } from './stats.js'
