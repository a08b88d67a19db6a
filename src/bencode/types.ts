/**
 * A decoded bencode value. Byte strings stay bytes; dictionary keys are kept as
 * binary (latin1) strings so that every key byte survives and the sort order
 * of the encoding (raw byte order) equals JavaScript string order. An integer is a
 * `number` when it is a safe integer and a `bigint` beyond (up to 20 digits), so that
 * encoding a decoded value gives back the same bytes.
 */
export type BencodeValue = number | bigint | Uint8Array | BencodeValue[] | BencodeDict;
export type BencodeDict = Map<string, BencodeValue>;

/** What `encode` accepts: the decoded shapes plus convenient JavaScript ones. */
export type Encodable =
  | number
  | bigint
  | string
  | Uint8Array
  | readonly Encodable[]
  | ReadonlyMap<string, Encodable>
  | { readonly [key: string]: Encodable | undefined };

export interface DecodeOptions {
  /** Accept unsorted and duplicate dictionary keys (first one wins). @default false */
  lenient?: boolean;
  /** Deepest nesting of lists and dictionaries. @default 64 */
  maxDepth?: number;
  /** Most values (of any type) in one document. @default 1_000_000 */
  maxItems?: number;
  /**
   * Record the byte span ({@link spanOf}) only of lists and dictionaries nested at most this deep
   * (the root is depth 1): a span per container costs memory on large documents.
   * @default Infinity (every list and dictionary)
   */
  spanDepth?: number;
  /**
   * Lists to check but not build: called for each dictionary key whose value is a list (with the
   * dictionary's depth, the root being 1); when it returns true the list is validated as usual
   * (same errors and limits) but decoded as an empty array whose items {@link listItems} decodes
   * one at a time and {@link listLength} counts. For the file list of a huge torrent, this avoids
   * holding the whole decoded list at once.
   */
  deferList?: (key: string, depth: number) => boolean;
}

/** Byte range [start, end) of a value in the buffer it was decoded from. */
export interface Span {
  start: number;
  end: number;
}
