function isShellSpecial(c: string): boolean {
  return '*#$@!?-0123456789'.includes(c)
}

function isAlphaNum(c: string): boolean {
  return /^[A-Za-z0-9_]$/.test(c)
}

/** Go's `getShellName`: the variable name after a `$` and how many chars it takes. */
function shellName(s: string): [string, number] {
  if (s[0] === '{') {
    if (s.length > 2 && isShellSpecial(s[1]!) && s[2] === '}') return [s.slice(1, 2), 3]
    for (let i = 1; i < s.length; i++) {
      if (s[i] === '}') return i === 1 ? ['', 2] : [s.slice(1, i), i + 1]
    }
    return ['', 1]
  }
  if (isShellSpecial(s[0]!)) return [s.slice(0, 1), 1]
  let i = 0
  while (i < s.length && isAlphaNum(s[i]!)) i++
  return [s.slice(0, i), i]
}

/**
 * Go's `os.Expand`: replaces `$VAR` and `${VAR}` by `mapping(VAR)`; bad syntax (`${}`, `${x`) is
 * dropped, a `$` followed by no name stays.
 */
export function expandGoEnv(s: string, mapping: (name: string) => string): string {
  let out = ''
  let i = 0
  for (let j = 0; j < s.length; j++) {
    if (s[j] === '$' && j + 1 < s.length) {
      out += s.slice(i, j)
      const [name, w] = shellName(s.slice(j + 1))
      if (name === '' && w > 0) {
        // invalid syntax: eaten
      } else if (name === '') {
        out += '$'
      } else {
        out += mapping(name)
      }
      j += w
      i = j + 1
    }
  }
  return out + s.slice(i)
}
