/**
 * RPC passwords stored as Transmission stores them in `settings.json`: `{`, then the hex SHA-1 of
 * the password followed by an 8-character salt, then the salt. A Transmission user's hashed
 * password keeps working here, and ours works in Transmission. SHA-1 is what that format is; the
 * password only guards a loopback-by-default RPC and is never sent anywhere.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const SALT_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789./';
const SALT_LENGTH = 8;
const HASHED = /^\{[0-9a-f]{40}.{8}$/s;

/** True when `value` is already in the stored (hashed) form. */
export function isHashedRpcPassword(value: string): boolean {
  return HASHED.test(value);
}

/** The stored form of a plain password, with a fresh random salt. */
export function hashRpcPassword(password: string, salt = randomSalt()): string {
  return `{${sha1Hex(password + salt)}${salt}`;
}

/**
 * Whether `given` matches `stored` (hashed, or plain as a user may have typed it into the
 * settings file), compared in constant time.
 */
export function verifyRpcPassword(stored: string, given: string): boolean {
  if (!isHashedRpcPassword(stored)) return constantTimeEqual(stored, given);
  const salt = stored.slice(41);
  return constantTimeEqual(stored, `{${sha1Hex(given + salt)}${salt}`);
}

/** String equality whose time does not depend on where the strings differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = createHash('sha256').update(a).digest();
  const right = createHash('sha256').update(b).digest();
  return timingSafeEqual(left, right) && a === b;
}

function sha1Hex(text: string): string {
  return createHash('sha1').update(text, 'utf8').digest('hex');
}

function randomSalt(): string {
  return [...randomBytes(SALT_LENGTH)].map((byte) => SALT_CHARS[byte % SALT_CHARS.length]).join('');
}
