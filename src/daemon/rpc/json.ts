/**
 * Reading an RPC request body: JSON with a nesting limit checked before `JSON.parse`, so a body
 * of ten thousand `[` neither recurses deeply nor allocates much. Pure.
 */

/** Deepest nesting of objects/arrays accepted in a request (Transmission's requests nest 3–4 deep). */
export const MAX_JSON_DEPTH = 32;

export type ParsedBody = { ok: true; value: unknown } | { ok: false; reason: 'malformed' | 'too-deep' };

/** Parses `text` as JSON unless it nests deeper than `maxDepth` or is not JSON. */
export function parseRpcJson(text: string, maxDepth = MAX_JSON_DEPTH): ParsedBody {
  if (nestingDepth(text) > maxDepth) return { ok: false, reason: 'too-deep' };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, reason: 'malformed' };
  }
}

/** Deepest bracket nesting outside strings (an upper bound on the parsed value's depth). */
export function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > deepest) deepest = depth;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
}
