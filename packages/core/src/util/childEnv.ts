/** Names of variables holding secrets: `RUSTIC_*` / `RESTIC_*` with PASSWORD, PASS, SECRET, TOKEN, KEY or CREDENTIAL in them. */
const SECRET_NAME = /^(RUSTIC|RESTIC)_.*(PASSWORD|PASS|SECRET|TOKEN|KEY|CREDENTIAL)/i
/** A URL with a password in it (`rest:https://user:secret@host/`). */
const URL_WITH_PASSWORD = /:\/\/[^/@\s]*:[^/@\s]*@/

/**
 * The environment for child processes (rclone, password and warm-up commands, hooks, `--stdin-command`):
 * this process's, without the `RUSTIC_*` / `RESTIC_*` variables that hold secrets (`RUSTIC_PASSWORD`,
 * `RESTIC_PASSWORD_FILE`, `RESTIC_PASSWORD_COMMAND`, `RESTIC_REST_PASSWORD`, ...) or a URL with a password
 * (`RUSTIC_REPOSITORY=rest:https://user:secret@host/`). Everything else is passed on.
 * @param env - the environment to filter (default `process.env`).
 */
export function childEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(env)) {
    if (/^(RUSTIC|RESTIC)_/i.test(name) && (SECRET_NAME.test(name) || URL_WITH_PASSWORD.test(value ?? ''))) continue
    out[name] = value
  }
  return out
}
