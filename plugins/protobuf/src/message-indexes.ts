import type { DescMessage } from '@bufbuild/protobuf';

/**
 * A message's index path in its .proto file, as the Confluent wire format
 * writes it: its index among the file's top-level messages, then among each
 * enclosing message's nested messages, outermost first. The first message
 * of a file is [0]; `Outer.Inner` where Outer is the file's second message
 * and Inner its third nested message is [1, 2].
 */
export function messageIndexes(desc: DescMessage): number[] {
  const path: number[] = [];
  for (let d: DescMessage | undefined = desc; d !== undefined; d = d.parent) {
    const siblings = d.parent === undefined ? d.file.messages : d.parent.nestedMessages;
    const index = siblings.indexOf(d);
    if (index < 0) throw new Error(`${d.typeName} is not among the messages of ${d.file.proto.name}`);
    path.unshift(index);
  }
  return path;
}
