/** The version string written into snapshots. */
export const PROGRAM_VERSION = 'rustic-ts 0.1.0'
