/** @tributary/avro: Avro serializers (avsc) for Tributary. Filled in by its own issue. */
export const PACKAGE = '@tributary/avro';
