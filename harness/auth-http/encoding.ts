/**
 * How RabbitMQ's HTTP auth backend encodes a request (RABBITMQ.md section 1): `key=value&…`,
 * each key and value percent-encoded byte by byte from UTF-8, the unreserved set A-Za-z0-9._~-
 * kept, space sent as `+`. The same string is the GET query and the POST form body.
 * URLSearchParams differs (it encodes `~` and keeps `*`), so Warren builds requests here, once,
 * for every part that plays the broker (conformance scenarios, load storms).
 */

/** Ordered parameters; a key may repeat (robustness scenarios send duplicates on purpose). */
export type FormFields = ReadonlyArray<readonly [string, string]>;

const unreserved = /[A-Za-z0-9._~-]/;

/** Percent-encodes one key or value the way the broker does. */
export function encodeFormComponent(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const char = String.fromCharCode(byte);
    if (byte < 0x80 && unreserved.test(char)) out += char;
    else if (byte === 0x20) out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** `key=value&…` in the given order. */
export function encodeForm(fields: FormFields): string {
  return fields
    .map(([key, value]) => `${encodeFormComponent(key)}=${encodeFormComponent(value)}`)
    .join('&');
}
