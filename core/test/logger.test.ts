import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonLogger, silentLogger } from '../src/network/logger.js';

describe('loggers', () => {
  it('is silent by default', () => {
    assert.equal(silentLogger.debugEnabled, false);
    assert.equal(silentLogger.infoEnabled, false);
  });

  it('writes one JSON line per entry at or above its level, with structured fields', () => {
    const lines: string[] = [];
    const log = jsonLogger('info', (l) => lines.push(l));
    assert.equal(log.debugEnabled, false);
    assert.equal(log.infoEnabled, true);
    log.debug('hidden');
    log.info('connected', { nodeId: 3 });
    log.error('failed', { nodeId: 3, error: 'ECONNRESET' });
    assert.equal(lines.length, 2);
    const [a, b] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(a?.['level'], 'info');
    assert.equal(a?.['message'], 'connected');
    assert.equal(a?.['nodeId'], 3);
    assert.equal(b?.['error'], 'ECONNRESET');
    assert.match(String(a?.['time']), /^\d{4}-\d\d-\d\dT/);
  });
});
