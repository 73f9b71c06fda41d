import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SECRET_MASK, SecretString, isSecretString } from '../src/index.js';

const VALUE = 'hunter2-super-secret';

describe('SecretString', () => {
  const secret = SecretString.of(VALUE);
  const holder = { password: secret, nested: { list: [secret] } };

  it('gives the value only through reveal()', () => {
    expect(secret.reveal()).toBe(VALUE);
    expect(secret.length).toBe(VALUE.length);
    expect(secret.equals(SecretString.of(VALUE))).toBe(true);
    expect(secret.equals(SecretString.of('other'))).toBe(false);
    expect(isSecretString(secret)).toBe(true);
    expect(isSecretString(VALUE)).toBe(false);
  });

  it('serialises, prints and inspects as the mask', () => {
    const renderings = [
      JSON.stringify(holder),
      String(secret),
      `${secret}`,
      'prefix ' + secret,
      inspect(holder, { depth: 10, showHidden: true }),
      JSON.stringify(structuredClone({ ...holder })),
      JSON.stringify(Object.entries(secret)),
    ];
    for (const text of renderings) expect(text).not.toContain(VALUE);
    expect(JSON.stringify(holder)).toBe(`{"password":"${SECRET_MASK}","nested":{"list":["${SECRET_MASK}"]}}`);
    expect(inspect(secret)).toBe(`SecretString(${SECRET_MASK})`);
  });
});
