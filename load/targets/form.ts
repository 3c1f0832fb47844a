/**
 * The broker's form encoding (RABBITMQ.md section 1): UTF-8 bytes percent-encoded one by one,
 * space as "+", the unreserved set A-Za-z0-9._~- kept. URLSearchParams differs (it encodes "~"
 * and keeps "*"), so requests are built here byte for byte.
 */
const unreserved = /[A-Za-z0-9._~-]/;

/** Encodes one value the way Erlang's httpc path of the broker does. */
export function encodeFormValue(value: string): string {
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
export function encodeForm(fields: ReadonlyArray<readonly [string, string]>): string {
  return fields
    .map(([key, value]) => `${encodeFormValue(key)}=${encodeFormValue(value)}`)
    .join('&');
}
