import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { brokerOptions, openQueueConnection } from '../../src/queue/providers/from-config.js';

describe('queue connection settings (CLI flags and environment)', () => {
  it('passes the Cloud Tasks target URL from --target-url or KAIROS_CLOUDTASKS_TARGET_URL', () => {
    const parent = 'projects/p/locations/europe-west1';
    assert.deepEqual(brokerOptions('cloudtasks', { provider: 'cloudtasks', url: parent, targetUrl: 'https://w.example/tasks', env: {} }), {
      parent,
      targetUrl: 'https://w.example/tasks',
    });
    assert.deepEqual(
      brokerOptions('cloudtasks', { provider: 'cloudtasks', env: { KAIROS_CLOUDTASKS_PARENT: parent, KAIROS_CLOUDTASKS_TARGET_URL: 'https://e.example/t' } }),
      { parent, targetUrl: 'https://e.example/t' },
    );
    assert.deepEqual(brokerOptions('kafka', { provider: 'kafka', url: 'a:9092,b:9092', env: {} }), { brokers: ['a:9092', 'b:9092'] });
  });

  it('refuses Cloud Tasks without a target URL, naming the flag and the variable, before opening any store', async () => {
    await assert.rejects(
      openQueueConnection({ provider: 'cloudtasks', url: 'projects/p/locations/l', dbPath: '/nonexistent-dir/never-created.db', env: {} }),
      (error: unknown) =>
        error instanceof ConfigError &&
        (error.details as { field?: string }).field === 'targetUrl' &&
        error.message.includes('--target-url') &&
        error.message.includes('KAIROS_CLOUDTASKS_TARGET_URL'),
    );
  });
});
