import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isTopicIndependent,
  recordNameStrategy,
  topicNameStrategy,
  topicRecordNameStrategy,
} from '../src/index.js';

describe('subject name strategies', () => {
  it('TopicNameStrategy: <topic>-key and <topic>-value', () => {
    assert.equal(topicNameStrategy('orders', false, 'shop.Order'), 'orders-value');
    assert.equal(topicNameStrategy('orders', true, 'shop.Order'), 'orders-key');
  });

  it('RecordNameStrategy: the record name, whatever the topic', () => {
    assert.equal(recordNameStrategy('orders', false, 'shop.Order'), 'shop.Order');
    assert.equal(recordNameStrategy('other', true, 'shop.Order'), 'shop.Order');
    assert.equal(isTopicIndependent(recordNameStrategy), true);
  });

  it('TopicRecordNameStrategy: <topic>-<record name>', () => {
    assert.equal(topicRecordNameStrategy('orders', false, 'shop.Order'), 'orders-shop.Order');
    assert.equal(isTopicIndependent(topicRecordNameStrategy), false);
    assert.equal(isTopicIndependent(topicNameStrategy), false);
  });
});
