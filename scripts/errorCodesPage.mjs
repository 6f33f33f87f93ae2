// The page docs/error-codes.md (written by scripts/docs.mjs, checked by packages/rustic-ts/test/cli/generatedDocs.test.ts).

/** docs/error-codes.md from the codes and their meanings (`ERROR_CODES` of @rustic-ts/core). */
export function errorCodesPage(codes) {
  const rows = Object.entries(codes)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([code, meaning]) => `| \`${code}\` | ${meaning.replaceAll('|', '\\|')} |`)
  return [
    '<!-- Generated from ERROR_CODES of @rustic-ts/core by `npm run docs:generated`: do not edit. -->',
    '',
    '# Error codes',
    '',
    "Every `RusticError` has a stable `code` (test for it with `isRusticError(e, 'Code')`); its message names",
    'the object concerned (file type and id, path, option) and never holds a secret. Errors of Node itself',
    '(file system errors) keep their errno code (`ENOENT`, `EACCES`, ...). Backend errors are `BackendError`s',
    'with a `backendKind` (`NotFound`, `PermissionDenied`, `Network`, ...) instead; see',
    '[the library guide](library.md#errors).',
    '',
    '| code | meaning |',
    '|---|---|',
    ...rows,
    '',
  ].join('\n')
}

