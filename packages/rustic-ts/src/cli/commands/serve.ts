import type { Command } from 'commander'
import { lazyAction } from '../lazyAction.js'

/** `serve`: a restic REST server (rest-server's flags) over a directory or a configured backend. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve repositories to restic clients over the REST protocol (rest-server compatible)')
    .option('--path <dir>', 'data directory: it and its subdirectories (two levels) are repositories')
    .option('--config <file>', 'server configuration file (TOML): [server] settings and [backends.NAME] storage')
    .option('--backend <name>', 'the backend of --config to serve (default: its only backend)')
    .option('--listen <addr>', 'listen address HOST:PORT, :PORT or [IPv6]:PORT (default ":8000")')
    .option('--append-only', 'refuse deleting anything but locks')
    .option('--private-repos', 'users may only reach repositories under their own name')
    .option('--read-only', 'refuse creating repositories and writing or deleting anything but locks')
    .option('--htpasswd-file <file>', 'htpasswd file with bcrypt or SHA entries (default: <path>/.htpasswd)')
    .option('--no-auth', 'turn authentication off')
    .option('--tls', 'serve HTTPS')
    .option('--tls-cert <file>', 'TLS certificate (default: <path>/public_key)')
    .option('--tls-key <file>', 'TLS key (default: <path>/private_key)')
    .option('--tls-min-ver <version>', 'lowest TLS version: 1.2 or 1.3 (default 1.2)')
    .option('--max-size <size>', 'largest size of one repository, e.g. 500G (default: no limit)')
    .option('--max-request-size <size>', 'largest request body, e.g. 512M; 0: no limit (default 256M)')
    .option('--log <file>', 'write an access log (JSON lines) to this file, "-" for stdout')
    .option('--prometheus', 'serve Prometheus metrics on /metrics')
    .option('--prometheus-no-auth', '/metrics without authentication')
    .option('--no-verify-upload', 'do not check that uploads hash to their names')
    .action(lazyAction(async () => (await import('./serve.action.js')).serveAction))
}
