/** What the running command keeps when it is interrupted, said in the one line printed on Ctrl-C. */
let kept: string | undefined

/** Sets what an interrupt of the running command leaves behind (e.g. backup: uploaded data the next backup reuses). */
export function onInterruptSay(what: string | undefined): void {
  kept = what
}

/** The line printed when the CLI is interrupted (Ctrl-C, SIGTERM, an abort). */
export function interruptedLine(): string {
  return kept === undefined ? 'rustic-ts: interrupted' : `rustic-ts: interrupted: ${kept}`
}
