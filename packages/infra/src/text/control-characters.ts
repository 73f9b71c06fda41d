/**
 * Whether text holds an ASCII control character (U+0000–U+001F, U+007F). Keys and paths
 * named by envelopes (Consul KV keys, Vault secret paths) refuse them: a newline or NUL in
 * a key would reach the server's URL or its logs as something else than what was checked.
 * One rule for every such name; a loop rather than a control-character regex, which the
 * linter rightly flags as usually a mistake.
 */
export function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code <= 0x1f || code === 0x7f) return true;
  }
  return false;
}
