/** This machine as native packages name it: `linux-x64 (glibc 2.36)`, `linux-arm64 (musl)`, `darwin-arm64`, ... */
export function nativePlatform(): string {
  const base = `${process.platform}-${process.arch}`
  if (process.platform !== 'linux') return base
  let glibc: string | undefined
  try {
    const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined
    glibc = report?.header?.glibcVersionRuntime
  } catch {
    glibc = undefined
  }
  return `${base} (${glibc ? `glibc ${glibc}` : 'musl'})`
}

/**
 * The first line of a load error's message; for a loader that lists what it tried as the error's cause
 * (napi-rs packages), the first line of its last attempt, which names the missing platform package.
 */
function loadReason(e: unknown): string {
  const first = (x: unknown): string => (x instanceof Error ? x.message : String(x)).split('\n')[0]!
  const cause = e instanceof Error ? e.cause : undefined
  if (Array.isArray(cause) && cause.length > 0) return first(cause.at(-1))
  return first(e)
}

/**
 * One line saying that native package `pkg` does not load here, naming the platform and why: for the
 * error or warning of a feature that needs it (the package is loaded on first use, never at import).
 */
export function nativeModuleUnavailable(pkg: string, error: unknown): string {
  return `the native package ${pkg} does not load on ${nativePlatform()}: ${loadReason(error)}`
}
