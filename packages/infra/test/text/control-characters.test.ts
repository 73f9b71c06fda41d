import { describe, expect, it } from 'vitest';
import { hasControlCharacter } from '../../src/text/control-characters.js';

describe('hasControlCharacter', () => {
  it('finds NUL, newline, escape and DEL anywhere, and passes printable and non-ASCII text', () => {
    for (const bad of ['a\u0000b', 'line\n', '\u001bx', 'end\u007f', '\t']) expect(hasControlCharacter(bad)).toBe(true);
    for (const good of ['', 'onex/app/config', 'key with spaces', 'café/ключ', '~@=+,:-_.']) expect(hasControlCharacter(good)).toBe(false);
  });
});
