export {
  CalendarDurationSchema,
  formatCalendarDuration,
  parseCalendarDuration,
  type CalendarDuration,
} from './CalendarDuration.js'
export { KeepOptionsSchema, type KeepOptions, type ResolvedKeepOptions } from './KeepOptions.js'
export type { ForgetGroup, ForgetPlan, ForgetSnapshot, KeepCounters } from './ForgetPlan.js'
export { applyKeepOptions } from './applyKeepOptions.js'
export { ForgetOptionsSchema, planForget, type ForgetOptions } from './planForget.js'
export { forget, type ForgetResult } from './forget.js'
