/** AMQP 0-9-1 client helpers over amqplib that report outcomes instead of throwing. */
export type {
  AmqpClosed,
  AmqpConnectRequest,
  AmqpConnected,
  AmqpOutcome,
  AmqpRefused,
  AmqpSocketFailure,
  AmqpTlsFailure,
  ClientTls,
  ExternalLogin,
  PlainLogin,
} from './connect.js';
export {
  amqpSocketOptions,
  classifyFailure,
  clientTlsFromFiles,
  closeOutcome,
  connectAmqp,
} from './connect.js';
