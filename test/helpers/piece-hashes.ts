import { createHash } from 'node:crypto';

/** The `pieces` field for `data` cut into pieces of `pieceLength`: their SHA-1s, concatenated. */
export function pieceHashesOf(data: Uint8Array, pieceLength: number): Buffer {
  const hashes: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += pieceLength) {
    hashes.push(
      createHash('sha1')
        .update(data.subarray(offset, offset + pieceLength))
        .digest(),
    );
  }
  return Buffer.concat(hashes);
}
