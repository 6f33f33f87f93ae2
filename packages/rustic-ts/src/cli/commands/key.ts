import type { Command } from 'commander'
import { lazyAction } from '../lazyAction.js'

/** `key list|add|remove|passwd`: manages the repository's keys (passwords), as restic's `key`. */
export function registerKey(program: Command): void {
  const key = program.command('key').description('manage keys (passwords)')
  key
    .command('list')
    .description('list key files; * marks the key in use')
    .action(lazyAction(async () => (await import('./key.action.js')).keyListAction))
  withNewKeyFlags(key.command('add').description('add a key file for a new password, read from --new-password-file or asked for on the terminal')).action(
    lazyAction(async () => (await import('./key.action.js')).keyAddAction),
  )
  key
    .command('remove')
    .description('remove a key file (never the one in use, never the last)')
    .argument('<id>', 'key id or unique prefix')
    .action(lazyAction(async () => (await import('./key.action.js')).keyRemoveAction))
  withNewKeyFlags(
    key.command('passwd').description('change the password of the key in use (adds a key for the new password, removes the old one); the new one is read from --new-password-file or asked for on the terminal'),
  ).action(
    lazyAction(async () => (await import('./key.action.js')).keyPasswdAction),
  )
}

export function withNewKeyFlags(cmd: Command): Command {
  return cmd
    .option('--new-password-file <file>', 'file holding the new password')
    .option('--host <host>', 'host name recorded in the new key (default: this machine)')
    .option('--user <user>', 'user name recorded in the new key (default: the current user)')
}
