import { describe, expect, it } from 'vitest';
import { HandlerExecutionError, InfraConnectionError, sanitizeMessage } from '@onex/core';

describe('sanitizeMessage', () => {
  it('strips the password from a connection string and keeps host, port and database', () => {
    const out = sanitizeMessage('could not connect to postgres://user:pass@host:5432/app');
    expect(out).toBe('could not connect to postgres://***@host:5432/app');
  });

  it.each([
    ['postgresql://app:S3cr3t!@db.internal/app?sslmode=require', 'S3cr3t!'],
    ['amqp://guest:guestpw@rabbit:5672', 'guestpw'],
    ['redis://:onlypassword@valkey:6379/0', 'onlypassword'],
    ['https://ghp_abcdefghijklmnop1234@github.com/org/repo', 'ghp_abcdefghijklmnop1234'],
  ])('strips credentials from %s', (text, secret) => {
    const out = sanitizeMessage(`failed: ${text}`);
    expect(out).not.toContain(secret);
    expect(out).toContain('***@');
  });

  it.each([
    ['password=hunter2', 'hunter2'],
    ['PGPASSWORD=hunter2 psql -h db', 'hunter2'],
    ['user=app password="two words" host=db', 'two words'],
    ["pwd: 'quoted'", 'quoted'],
    ['secret=abc123&next=1', 'abc123'],
    ['api_key=AKIA1234567890', 'AKIA1234567890'],
    ['api-key: AKIA1234567890', 'AKIA1234567890'],
    ['client_secret=xyz789xyz', 'xyz789xyz'],
    ['X-Vault-Token: s.abc', 's.abc'],
  ])('strips key/value secrets: %s', (text, secret) => {
    const out = sanitizeMessage(text);
    expect(out).not.toContain(secret);
    expect(out).toContain('***');
  });

  it('strips "token": "..." in JSON text', () => {
    const out = sanitizeMessage('response {"token": "abc123def", "user": "bob"}');
    expect(out).not.toContain('abc123def');
    expect(out).toContain('"user": "bob"');
    expect(sanitizeMessage('{"token":"abc123def"}')).not.toContain('abc123def');
    expect(sanitizeMessage('{"password":"hunter2"}')).not.toContain('hunter2');
  });

  it.each([
    'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-nature',
    'authorization=Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-nature',
    'sent header Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-nature',
    '{"authorization":"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-nature"}',
  ])('strips bearer tokens: %s', (text) => {
    const out = sanitizeMessage(text);
    expect(out).not.toContain('eyJhbGciOiJIUzI1NiJ9');
    expect(out).not.toContain('sig-nature');
  });

  it('leaves hints readable: the phrase "bearer token" and a <token> placeholder are not credentials', () => {
    expect(sanitizeMessage('This ingress needs a bearer token')).toBe('This ingress needs a bearer token');
    expect(sanitizeMessage('Send "Authorization: Bearer <token>" with a token listed in ingress.auth_tokens.')).toBe('Send "Authorization: Bearer <token>" with a token listed in ingress.auth_tokens.');
    // A real value right after the phrase is still a credential.
    expect(sanitizeMessage('Authorization: Bearer tokenvalue-1234567890')).not.toContain('tokenvalue-1234567890');
    expect(sanitizeMessage('Bearer s.tokenvalue123')).not.toContain('s.tokenvalue123');
  });

  it.each([
    'Authorization: Basic dXNlcjpwYXNzd29yZA==',
    '{"Authorization": "Basic dXNlcjpwYXNzd29yZA=="}',
    "headers={'authorization': 'Basic dXNlcjpwYXNzd29yZA=='}",
  ])('strips basic credentials: %s', (text) => {
    expect(sanitizeMessage(text)).not.toContain('dXNlcjpwYXNzd29yZA');
  });

  it.each(['hvs.CAESIJ1234567890abcdefghijklmnopqrstuvwxyz', 'hvb.AAAAAQJ1234567890abcdefghijkl', 's.1234567890abcdefghijklmn'])(
    'strips Vault/OpenBao token %s',
    (token) => {
      const out = sanitizeMessage(`vault login failed for ${token} (permission denied)`);
      expect(out).toBe('vault login failed for *** (permission denied)');
    },
  );

  it('strips explicit secret values wherever they appear', () => {
    const out = sanitizeMessage('value s3cr3t-value leaked twice: s3cr3t-value', { secrets: ['s3cr3t-value'] });
    expect(out).toBe('value *** leaked twice: ***');
  });

  it('ignores very short explicit secrets instead of redacting ordinary words', () => {
    expect(sanitizeMessage('a db error', { secrets: ['db'] })).toBe('a db error');
  });

  it('leaves safe text alone: service names, operations, ports, correlation ids', () => {
    const text = "Handler 'db' operation 'db.query' on postgres:5432 failed (correlation 11111111-2222-4333-8444-555555555555)";
    expect(sanitizeMessage(text)).toBe(text);
    expect(sanitizeMessage('GET https://example.com/api/v1/users?page=2 returned 503')).toBe('GET https://example.com/api/v1/users?page=2 returned 503');
  });
});

describe('errors sanitize their messages on construction', () => {
  it('a constructed OnexError with a credential in its message has it redacted', () => {
    const error = new HandlerExecutionError('query failed on postgres://app:hunter2@db:5432/app with password=hunter2');
    expect(error.message).not.toContain('hunter2');
    expect(error.message).toContain('postgres://***@db:5432/app');
    expect(JSON.stringify(error.toEnvelopeError())).not.toContain('hunter2');
    expect(JSON.stringify(error.toLogFields())).not.toContain('hunter2');
  });

  it('an infra error from a driver message leaks no token', () => {
    const error = new InfraConnectionError('vault request with X-Vault-Token: hvs.CAESIJ1234567890abcdefghijklmnopq failed', { transportType: 'vault' });
    expect(error.message).not.toContain('hvs.CAESIJ');
  });
});
