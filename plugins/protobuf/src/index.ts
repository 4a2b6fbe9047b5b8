/** @tributary/protobuf: Protobuf serializers (@bufbuild/protobuf) for Tributary. Filled in by its own issue. */
export const PACKAGE = '@tributary/protobuf';
