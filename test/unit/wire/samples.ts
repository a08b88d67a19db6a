import type { Message } from '../../../src/wire/types.js';

/** One or more messages of every type, for round trips and segmentation tests. */
export function sampleMessages(): Message[] {
  const block = new Uint8Array(16384);
  for (let i = 0; i < block.length; i++) block[i] = (i * 31 + 7) & 0xff;
  return [
    { type: 'keep-alive' },
    { type: 'choke' },
    { type: 'unchoke' },
    { type: 'interested' },
    { type: 'not-interested' },
    { type: 'have', index: 7 },
    { type: 'have', index: 0xffffffff },
    { type: 'bitfield', bits: new Uint8Array([0xff, 0x0f, 0x80]) },
    { type: 'request', index: 12, begin: 16384, length: 16384 },
    { type: 'piece', index: 12, begin: 0, block },
    { type: 'piece', index: 3, begin: 32768, block: new Uint8Array([1, 2, 3]) },
    { type: 'piece', index: 4, begin: 0, block: new Uint8Array(0) },
    { type: 'cancel', index: 12, begin: 16384, length: 16384 },
    { type: 'port', port: 6881 },
    { type: 'suggest', index: 99 },
    { type: 'have-all' },
    { type: 'have-none' },
    { type: 'reject', index: 1, begin: 2, length: 3 },
    { type: 'allowed-fast', index: 42 },
    { type: 'extended', id: 0, payload: new TextEncoder().encode('d1:md11:ut_metadatai3eee') },
    { type: 'extended', id: 3, payload: new Uint8Array([0x64, 0x65]) },
    { type: 'unknown', id: 99, length: 12 },
    { type: 'unknown', id: 21, length: 1 },
    { type: 'keep-alive' },
  ];
}

/** The message with every byte field as a plain Uint8Array copy, for deepStrictEqual. */
export function plain(message: Message): Message {
  switch (message.type) {
    case 'bitfield':
      return { ...message, bits: Uint8Array.from(message.bits) };
    case 'piece':
      return { ...message, block: Uint8Array.from(message.block) };
    case 'extended':
      return { ...message, payload: Uint8Array.from(message.payload) };
    default:
      return { ...message };
  }
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
