// The bytes of JSON's punctuation, for the scanners that read restic's files in their usual form from bytes.

/** `"` */
export const Q = 0x22
/** `,` */
export const COMMA = 0x2c
/** `:` */
export const COLON = 0x3a
/** `{` */
export const LBRACE = 0x7b
/** `}` */
export const RBRACE = 0x7d
/** `[` */
export const LBRACKET = 0x5b
/** `]` */
export const RBRACKET = 0x5d
/** `\` */
export const BACKSLASH = 0x5c

/** 1 for the bytes `0-9a-f` (the lower-case hex of ids as restic writes them), 0 for the others. */
export const LOWER_HEX = new Uint8Array(256)
for (const c of '0123456789abcdef') LOWER_HEX[c.charCodeAt(0)] = 1
