import type { Command, Help, Option } from 'commander'

/** The environment variables the CLI reads, in the order it reads them. */
const ENVIRONMENT: Array<[string, string]> = [
  ['RUSTIC_REPOSITORY, RESTIC_REPOSITORY', 'the repository, when `-r/--repo` is not given'],
  ['RUSTIC_PASSWORD, RESTIC_PASSWORD', 'the password'],
  ['RUSTIC_PASSWORD_FILE, RESTIC_PASSWORD_FILE', 'a file holding the password'],
  ['RUSTIC_PASSWORD_COMMAND, RESTIC_PASSWORD_COMMAND', 'a command printing the password'],
  ['RUSTIC_FROM_REPOSITORY, RESTIC_FROM_REPOSITORY', "`copy`'s source repository, when `--from-repo` is not given"],
  ['RUSTIC_FROM_PASSWORD, RESTIC_FROM_PASSWORD', "`copy`'s source password (also `_FROM_PASSWORD_FILE`, `_FROM_PASSWORD_COMMAND`)"],
  ['RUSTIC_USE_PROFILE', 'the profile to read, as `-P`'],
  ['RUSTIC_REPO_HOT, RUSTIC_CACHE_DIR, RUSTIC_NO_CACHE, RUSTIC_NO_PROGRESS, RUSTIC_DRY_RUN, RUSTIC_GROUP_BY', 'override the profiles\' keys of these names (see [profiles](profiles.md))'],
  ['RUSTIC_REPO_OPT_NAME, RUSTIC_REPO_OPTHOT_NAME, RUSTIC_REPO_OPTCOLD_NAME', 'backend option `name` (`RUSTIC_REPO_OPT_TIMEOUT=10m` is `-o timeout=10m`)'],
  ['XDG_CONFIG_HOME', 'profiles are searched in `$XDG_CONFIG_HOME/rustic-ts` (default `~/.config/rustic-ts`), `/etc/rustic-ts` and the current directory'],
  ['XDG_CACHE_HOME', 'the cache base directory is `$XDG_CACHE_HOME/rustic-ts` (default `~/.cache/rustic-ts`)'],
  ['RUSTIC_DEBUG', 'print the whole error (stack, causes) after the one-line message'],
]

/** A markdown table cell: pipes escaped, on one line. */
function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ')
}

/** An option's flags and argument as a table cell, its default appended to the description. */
function optionRow(help: Help, o: Option): string {
  const dflt = o.defaultValue !== undefined && !o.negate && typeof o.defaultValue !== 'boolean' ? ` (default: \`${String(o.defaultValue)}\`)` : ''
  return `| \`${cell(help.optionTerm(o))}\` | ${cell(o.description)}${dflt} |`
}

/** The sections of one command and its subcommands. */
function commandSections(help: Help, cmd: Command, path: string[]): string[] {
  const name = [...path, cmd.name()].join(' ')
  const out = [`### ${name}`, '', cell(cmd.description()), '', '```', `${[...path, cmd.name()].join(' ')} ${cmd.usage()}`.trim(), '```', '']
  const args = help.visibleArguments(cmd)
  if (args.length > 0) {
    out.push('| argument | meaning |', '|---|---|')
    for (const a of args) out.push(`| \`${cell(help.argumentTerm(a))}\` | ${cell(a.description)} |`)
    out.push('')
  }
  const options = help.visibleOptions(cmd).filter((o) => o.long !== '--help')
  if (options.length > 0) {
    out.push('| option | meaning |', '|---|---|')
    for (const o of options) out.push(optionRow(help, o))
    out.push('')
  }
  for (const sub of help.visibleCommands(cmd).filter((c) => c.name() !== 'help')) out.push(...commandSections(help, sub, [...path, cmd.name()]))
  return out
}

/**
 * The CLI reference (`docs/cli.md`) made from the commander definitions of `program`: global options,
 * environment, exit codes, then every command with its arguments and options. `rustic-ts generate
 * --cli-reference` prints it; a test fails when the file and the program disagree.
 */
export function cliReference(program: Command): string {
  const help = program.createHelp()
  const commands = help.visibleCommands(program).filter((c) => c.name() !== 'help')
  const out = [
    '<!-- Generated from the commander definitions by `npm run docs:generated` (rustic-ts generate --cli-reference): do not edit. -->',
    '',
    '# CLI reference',
    '',
    `\`${program.name()}\`: ${cell(program.description())}. Command names and flags follow restic's; see the`,
    '[getting started guide](getting-started.md) for a tour and [backends](backends.md) for repository strings.',
    '',
    '```',
    `${program.name()} [global options] <command> [options] [arguments]`,
    '```',
    '',
    '## Global options',
    '',
    'Given before or after the command.',
    '',
    '| option | meaning |',
    '|---|---|',
    ...help.visibleOptions(program).filter((o) => o.long !== '--help').map((o) => optionRow(help, o)),
    '',
    '## Environment',
    '',
    'A flag wins over the environment, and `RUSTIC_*` variables win over the profiles (`-P`). restic\'s',
    '`RESTIC_*` names are read after both: they count when neither a flag, a `RUSTIC_*` variable nor a profile',
    'gives the value. Without any password source the CLI asks for the password on the terminal (without',
    'echo); without a terminal it fails.',
    '',
    '| variable | meaning |',
    '|---|---|',
    ...ENVIRONMENT.map(([k, v]) => `| \`${k.replaceAll(', ', '`, `')}\` | ${v} |`),
    '',
    '## Exit codes',
    '',
    '| code | meaning |',
    '|---|---|',
    '| 0 | success |',
    '| 1 | an error (one line on stderr: `rustic-ts: error: ...`); `check` found errors |',
    '| 3 | `backup` saved a snapshot but could not read some files or source paths (warned about on stderr) |',
    '| 130 | interrupted (Ctrl-C); 143 on SIGTERM. One line says what was kept |',
    '',
    '## Commands',
    '',
    ...commands.map((c) => `- [\`${c.name()}\`](#${[program.name(), c.name()].join('-').replace(/[^a-z0-9-]/g, '')}): ${cell(c.description())}`),
    '',
    ...commands.flatMap((c) => commandSections(help, c, [program.name()])),
  ]
  return out.join('\n').replace(/\n+$/, '\n')
}
