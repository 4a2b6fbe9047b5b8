import { create, type DescFile, type DescMessage, type MessageInitShape, toBinary } from '@bufbuild/protobuf';
import { fileDesc, messageDesc } from '@bufbuild/protobuf/codegenv2';
import {
  type DescriptorProtoSchema,
  type FieldDescriptorProtoSchema,
  FileDescriptorProtoSchema,
  file_google_protobuf_timestamp,
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as T,
} from '@bufbuild/protobuf/wkt';

// Descriptors built at runtime, without protoc: FileDescriptorProtos written
// out here, serialized and hydrated with @bufbuild/protobuf's `fileDesc` /
// `messageDesc`, exactly as the code protoc-gen-es generates does. They
// stand for these two files:
//
//   // shop/common.proto
//   syntax = "proto3";
//   package shop;
//   message Money { string currency = 1; int64 units = 2; }
//   enum Status { STATUS_UNSPECIFIED = 0; STATUS_PAID = 1; STATUS_SHIPPED = 2; }
//
//   // shop/order.proto
//   syntax = "proto3";
//   package shop;
//   import "shop/common.proto";
//   import "google/protobuf/timestamp.proto";
//   message Order {                                  // [0]
//     message Address { string street = 1; string city = 2; string zip = 3; }   // [0, 0]
//     message Item { string sku = 1; uint32 qty = 2; double price = 3; }        // [0, 1]
//     message Discount {                                                         // [0, 2]
//       message Rule { int32 percent = 1; }                                      // [0, 2, 0]
//       string code = 1; Rule rule = 2;
//     }
//     string id = 1; string customer = 2; double amount = 3; int32 quantity = 4;
//     int64 created_at = 5; repeated string tags = 6; Address address = 7;
//     repeated Item items = 8; map<string, string> labels = 9; Money total = 10;
//     Status status = 11; google.protobuf.Timestamp placed = 12;
//     oneof payment { string card = 13; string voucher = 14; }
//     bytes blob = 15; bool gift = 16;
//   }
//   message Shipment { string order_id = 1; }        // [1]
//   message Event { string name = 1; }               // [2]
//
// The map's synthetic LabelsEntry is written as Order's FIRST nested type, as
// a trap: the Confluent index path counts declared messages only (as in the
// .proto text), so Address is [0, 0], not [0, 1].

type FieldInit = MessageInitShape<typeof FieldDescriptorProtoSchema>;
type MessageInit = MessageInitShape<typeof DescriptorProtoSchema>;

function field(name: string, number: number, type: T, extra: FieldInit = {}): FieldInit {
  return { name, number, type, label: Label.OPTIONAL, jsonName: '', ...extra };
}

function msg(name: string, fields: FieldInit[], extra: MessageInit = {}): MessageInit {
  return { name, field: fields, ...extra };
}

const commonProto = create(FileDescriptorProtoSchema, {
  name: 'shop/common.proto',
  package: 'shop',
  syntax: 'proto3',
  messageType: [msg('Money', [field('currency', 1, T.STRING), field('units', 2, T.INT64)])],
  enumType: [
    {
      name: 'Status',
      value: [
        { name: 'STATUS_UNSPECIFIED', number: 0 },
        { name: 'STATUS_PAID', number: 1 },
        { name: 'STATUS_SHIPPED', number: 2 },
      ],
    },
  ],
});

const orderProto = create(FileDescriptorProtoSchema, {
  name: 'shop/order.proto',
  package: 'shop',
  syntax: 'proto3',
  dependency: ['shop/common.proto', 'google/protobuf/timestamp.proto'],
  messageType: [
    msg(
      'Order',
      [
        field('id', 1, T.STRING),
        field('customer', 2, T.STRING),
        field('amount', 3, T.DOUBLE),
        field('quantity', 4, T.INT32),
        field('created_at', 5, T.INT64),
        field('tags', 6, T.STRING, { label: Label.REPEATED }),
        field('address', 7, T.MESSAGE, { typeName: '.shop.Order.Address' }),
        field('items', 8, T.MESSAGE, { typeName: '.shop.Order.Item', label: Label.REPEATED }),
        field('labels', 9, T.MESSAGE, { typeName: '.shop.Order.LabelsEntry', label: Label.REPEATED }),
        field('total', 10, T.MESSAGE, { typeName: '.shop.Money' }),
        field('status', 11, T.ENUM, { typeName: '.shop.Status' }),
        field('placed', 12, T.MESSAGE, { typeName: '.google.protobuf.Timestamp' }),
        field('card', 13, T.STRING, { oneofIndex: 0 }),
        field('voucher', 14, T.STRING, { oneofIndex: 0 }),
        field('blob', 15, T.BYTES),
        field('gift', 16, T.BOOL),
      ],
      {
        oneofDecl: [{ name: 'payment' }],
        nestedType: [
          msg('LabelsEntry', [field('key', 1, T.STRING), field('value', 2, T.STRING)], {
            options: { mapEntry: true },
          }),
          msg('Address', [
            field('street', 1, T.STRING),
            field('city', 2, T.STRING),
            field('zip', 3, T.STRING),
          ]),
          msg('Item', [field('sku', 1, T.STRING), field('qty', 2, T.UINT32), field('price', 3, T.DOUBLE)]),
          msg(
            'Discount',
            [
              field('code', 1, T.STRING),
              field('rule', 2, T.MESSAGE, { typeName: '.shop.Order.Discount.Rule' }),
            ],
            {
              nestedType: [msg('Rule', [field('percent', 1, T.INT32)])],
            },
          ),
        ],
      },
    ),
    msg('Shipment', [field('order_id', 1, T.STRING)]),
    msg('Event', [field('name', 1, T.STRING)]),
  ],
});

function b64(proto: typeof commonProto): string {
  return Buffer.from(toBinary(FileDescriptorProtoSchema, proto)).toString('base64');
}

export const file_shop_common: DescFile = fileDesc(b64(commonProto));
export const file_shop_order: DescFile = fileDesc(b64(orderProto), [
  file_shop_common,
  file_google_protobuf_timestamp,
]);

export const MoneySchema: DescMessage = messageDesc(file_shop_common, 0);
export const OrderSchema: DescMessage = messageDesc(file_shop_order, 0);
export const AddressSchema: DescMessage = messageDesc(file_shop_order, 0, 0);
export const ItemSchema: DescMessage = messageDesc(file_shop_order, 0, 1);
export const DiscountSchema: DescMessage = messageDesc(file_shop_order, 0, 2);
export const RuleSchema: DescMessage = messageDesc(file_shop_order, 0, 2, 0);
export const ShipmentSchema: DescMessage = messageDesc(file_shop_order, 1);
export const EventSchema: DescMessage = messageDesc(file_shop_order, 2);

/** An order init object; the same shape as the Avro and JSON ones of the benchmark. */
export function orderInit(i: number): Record<string, unknown> {
  return {
    id: `order-${i}`,
    customer: `customer-${i % 100}`,
    amount: 19.99 + i,
    quantity: 1 + (i % 5),
    createdAt: BigInt(1_700_000_000_000 + i),
    tags: ['new', i % 2 === 0 ? 'even' : 'odd'],
    address: { street: `${i} Main St`, city: 'Springfield', zip: `${10000 + (i % 90000)}` },
    items: [
      { sku: 'sku-1', qty: 1, price: 9.99 },
      { sku: `sku-${i}`, qty: 2, price: 5 },
    ],
  };
}

/** The same order as a message (for the benchmark's "message" case). */
export function orderMessage(i: number): unknown {
  return create(OrderSchema, orderInit(i));
}
