import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBus } from './events.js';

test('typed events reach their listeners until unsubscribed', () => {
  const bus = new EventBus();
  const got: string[] = [];
  const off = bus.on('log', (e) => got.push(`${e.level}:${e.message}`));
  bus.emit('log', { level: 'info', source: 't', message: 'a' });
  off();
  bus.emit('log', { level: 'info', source: 't', message: 'b' });
  assert.deepEqual(got, ['info:a']);
});
