import { createWriteStream } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Command } from 'commander'
import { RusticError } from '@rustic-ts/core'
import type { WarningHandler } from '@rustic-ts/core'
import type { AccessLogEntry, RestServerOptions } from '@rustic-ts/rest-server'
import type { ServeConfig } from '../serveConfig.js'

/** The flags of `serve` as commander gives them. */
interface ServeFlags {
  path?: string
  config?: string
  backend?: string
  listen?: string
  appendOnly?: boolean
  privateRepos?: boolean
  readOnly?: boolean
  htpasswdFile?: string
  /** False with `--no-auth`. */
  auth: boolean
  tls?: boolean
  tlsCert?: string
  tlsKey?: string
  tlsMinVer?: string
  maxSize?: string
  maxRequestSize?: string
  log?: string
  prometheus?: boolean
  prometheusNoAuth?: boolean
  /** False with `--no-verify-upload`. */
  verifyUpload: boolean
}

async function serve(flags: ServeFlags, cmd: Command): Promise<void> {
  // loaded here, so that other commands do not load the server
  const { createRestServer, parseListenAddress } = await import('@rustic-ts/rest-server')
  const { readServeConfig, repositoryResolver, sizeValue } = await import('../serveConfig.js')
  const warn: WarningHandler = (m) => void process.stderr.write(`rustic-ts serve: warning: ${m}\n`)
  const config: ServeConfig | undefined = flags.config === undefined ? undefined : await readServeConfig(flags.config)
  const s = config?.server ?? {}
  /** A flag given on the command line wins over the configuration file. */
  const pick = <T>(flag: keyof ServeFlags, fromFile: T | undefined): T | undefined =>
    cmd.getOptionValueSource(flag) === 'cli' ? (flags[flag] as T) : (fromFile ?? (flags[flag] as T | undefined))

  const noAuth = cmd.getOptionValueSource('auth') === 'cli' ? !flags.auth : (s['no-auth'] ?? false)
  const verifyUploads = cmd.getOptionValueSource('verifyUpload') === 'cli' ? flags.verifyUpload : !(s['no-verify-upload'] ?? false)
  const options: RestServerOptions = {
    appendOnly: pick('appendOnly', s['append-only']) ?? false,
    privateRepos: pick('privateRepos', s['private-repos']) ?? false,
    readOnly: pick('readOnly', s['read-only']) ?? false,
    noAuth,
    verifyUploads,
    metrics: pick('prometheus', s.prometheus) ?? false,
    metricsNoAuth: pick('prometheusNoAuth', s['prometheus-no-auth']) ?? false,
    onWarning: warn,
  }
  const listen = pick<string>('listen', s.listen) ?? ':8000'
  parseListenAddress(listen) // a bad address fails before anything else is checked
  const maxSize = pick<string | number>('maxSize', s['max-size'])
  if (maxSize !== undefined) options.maxSize = sizeValue(maxSize, '--max-size')
  const maxRequest = pick<string | number>('maxRequestSize', s['max-request-size'])
  if (maxRequest !== undefined) options.maxRequestSize = sizeValue(maxRequest, '--max-request-size')

  let storage: string
  if (flags.path !== undefined) {
    if (flags.backend !== undefined) throw usage('--backend names a backend of --config: do not give it with --path')
    options.path = resolve(flags.path)
    storage = options.path
  } else if (config !== undefined) {
    const names = Object.keys(config.backends)
    const name = flags.backend ?? (names.length === 1 ? names[0] : undefined)
    if (name === undefined) {
      throw usage(names.length === 0 ? `${flags.config} names no backends: add a [backends.NAME] table` : `choose one of the backends of ${flags.config} with --backend: ${names.join(', ')}`)
    }
    const b = config.backends[name]
    if (b === undefined) throw usage(`${flags.config} has no backend "${name}": it has ${names.join(', ') || 'none'}`)
    options.backend = await repositoryResolver(b.repository, b.options, warn)
    storage = `backend "${name}" (${b.repository})`
  } else {
    throw usage('nothing to serve: give --path DIR or --config FILE')
  }

  const htpasswd = pick<string>('htpasswdFile', s['htpasswd-file'])
  if (!noAuth) {
    if (htpasswd !== undefined) options.htpasswdFile = resolve(htpasswd)
    else if (options.path === undefined) throw usage('no htpasswd file: give --htpasswd-file FILE (or --no-auth)')
  }

  const tls = pick('tls', s.tls) ?? false
  const cert = pick<string>('tlsCert', s['tls-cert'])
  const key = pick<string>('tlsKey', s['tls-key'])
  if (!tls && (cert !== undefined || key !== undefined)) throw usage('--tls-cert and --tls-key require --tls')
  if (tls) {
    if ((cert === undefined || key === undefined) && options.path === undefined) throw usage('--tls with a configured backend needs --tls-cert and --tls-key')
    const minVersion = pick<string>('tlsMinVer', s['tls-min-ver']) ?? '1.2'
    if (minVersion !== '1.2' && minVersion !== '1.3') throw usage(`unsupported --tls-min-ver "${minVersion}": use 1.2 or 1.3`)
    options.tls = {
      certFile: resolve(cert ?? join(options.path!, 'public_key')),
      keyFile: resolve(key ?? join(options.path!, 'private_key')),
      minVersion,
    }
  }

  const log = pick<string>('log', s.log)
  let logStream: NodeJS.WritableStream | undefined
  if (log !== undefined) {
    logStream = log === '-' ? process.stdout : createWriteStream(resolve(log), { flags: 'a', mode: 0o600 })
    logStream.on('error', (e: Error) => warn(`cannot write the access log ${log}: ${e.message}`))
    const out = logStream
    options.accessLog = (e: AccessLogEntry) => void out.write(JSON.stringify(e) + '\n')
  }

  const rest = createRestServer(options)
  const { url } = await rest.listen(listen)
  const modes = [
    options.appendOnly && 'append-only',
    options.readOnly && 'read-only',
    options.privateRepos && 'private repositories',
    noAuth ? 'no authentication' : 'authentication on',
    options.maxSize !== undefined && `max size ${options.maxSize} bytes`,
  ].filter(Boolean)
  process.stderr.write(`rustic-ts serve: serving ${storage} on ${url} (${modes.join(', ')})\n`)

  await new Promise<void>((done) => {
    const stop = (): void => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      process.off('SIGHUP', reload)
      process.stderr.write('rustic-ts serve: shutting down (finishing requests in progress)\n')
      void rest.close().finally(done)
    }
    const reload = (): void => {
      try {
        rest.htpasswd?.reload()
        process.stderr.write('rustic-ts serve: reloaded the htpasswd file\n')
      } catch (e) {
        warn((e as Error).message)
      }
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    process.on('SIGHUP', reload)
  })
  if (logStream !== undefined && logStream !== process.stdout) await new Promise<void>((r) => logStream.end(r))
}

function usage(message: string): RusticError {
  return new RusticError('InvalidInput', message, { code: 'InvalidOptions' })
}

/** The `serve` command's action (loaded when it runs). */
export async function serveAction(flags: ServeFlags, cmd: Command): Promise<void> {
  await serve(flags, cmd)
}

