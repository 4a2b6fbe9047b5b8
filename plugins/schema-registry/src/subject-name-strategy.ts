/**
 * Which subject a record's schema is registered under, as Confluent's
 * `key.subject.name.strategy` / `value.subject.name.strategy`:
 *
 * - {@link topicNameStrategy} (the default): `<topic>-key` / `<topic>-value`.
 *   One schema per topic.
 * - {@link recordNameStrategy}: the record's fully qualified name (the Avro
 *   record's full name, the Protobuf message's type name, the JSON Schema's
 *   `title`). Many record types per topic; one schema per type everywhere.
 * - {@link topicRecordNameStrategy}: `<topic>-<record name>`.
 *
 * A strategy of your own is any function of this shape. It must be pure:
 * serializers call it once per topic and cache the result.
 */
export type SubjectNameStrategy = (topic: string, isKey: boolean, recordName: string) => string;

export const topicNameStrategy: SubjectNameStrategy = (topic, isKey) =>
  isKey ? `${topic}-key` : `${topic}-value`;

export const recordNameStrategy: SubjectNameStrategy = (_topic, _isKey, recordName) => recordName;

export const topicRecordNameStrategy: SubjectNameStrategy = (topic, _isKey, recordName) =>
  `${topic}-${recordName}`;

/**
 * True when the strategy's subject does not depend on the topic, so one
 * registry call in `prepare()` serves every topic, listed or not. Known only
 * for {@link recordNameStrategy}; any other function is assumed to use it.
 */
export function isTopicIndependent(strategy: SubjectNameStrategy): boolean {
  return strategy === recordNameStrategy;
}
