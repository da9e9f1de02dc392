import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRedactor, redactValue } from '../../src/alerts/redact.js';

describe('createRedactor', () => {
  const redact = createRedactor(['https://hooks.slack.com/services/T0/B0/abcdefSECRET', 'token-1234567890', 'abc']);

  it('redacts whole secrets, the secret path of a URL, and URL passwords it was never told about', () => {
    assert.equal(redact('posting to https://hooks.slack.com/services/T0/B0/abcdefSECRET failed'), 'posting to [redacted] failed');
    assert.equal(redact('POST /services/T0/B0/abcdefSECRET -> 500'), 'POST [redacted] -> 500');
    assert.equal(redact('Bearer token-1234567890'), 'Bearer [redacted]');
    assert.equal(redact('amqp://guest:hunter2@mq:5672/vhost'), 'amqp://guest:[redacted]@mq:5672/vhost');
    assert.equal(redact('postgres://app:p%40ss@db/kairos'), 'postgres://app:[redacted]@db/kairos');
  });

  it('ignores secrets too short to be secrets, so messages stay readable', () => {
    assert.equal(redact('abc def'), 'abc def');
  });

  it('redacts inside JSON-like values, keys included', () => {
    assert.deepEqual(redactValue({ url: 'x token-1234567890', list: ['token-1234567890'], n: 1, 'token-1234567890': true }, redact), {
      url: 'x [redacted]',
      list: ['[redacted]'],
      n: 1,
      '[redacted]': true,
    });
  });

  it('stays linear on long runs of letters (a quadratic pattern would not finish here)', () => {
    const long = `${'x'.repeat(1 << 20)}://${'y'.repeat(1 << 16)}`;
    assert.equal(redact(long), long);
  });
});
