import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TOKEN_BYTES, TOKEN_ROTATE_MS, TokenIssuer } from '../../../src/dht/tokens.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { seededRandom } from '../../helpers/seeded-random.js';

function issuer(seed = 1): { clock: FakeClock; tokens: TokenIssuer } {
  const clock = new FakeClock();
  return { clock, tokens: new TokenIssuer({ clock, random: seededRandom(seed) }) };
}

describe('announce tokens (BEP 5)', () => {
  test('a token is accepted from the IP it was issued to, on any port', () => {
    const { tokens } = issuer();
    const token = tokens.issue('203.0.113.7');
    assert.equal(token.length, TOKEN_BYTES);
    assert.ok(tokens.verify(token, '203.0.113.7'));
  });

  test('another IP cannot use it (IPv4 and IPv6)', () => {
    const { tokens } = issuer();
    assert.equal(tokens.verify(tokens.issue('203.0.113.7'), '203.0.113.8'), false);
    assert.equal(tokens.verify(tokens.issue('2001:db8::1'), '2001:db8::2'), false);
    assert.ok(tokens.verify(tokens.issue('2001:db8::1'), '2001:db8:0::1'), 'same address, other spelling');
  });

  test("forged tokens are refused: wrong bytes, wrong length, another node's secret", () => {
    const { tokens } = issuer(1);
    const token = tokens.issue('198.51.100.1');
    const flipped = Uint8Array.from(token);
    flipped[0]! ^= 1;
    assert.equal(tokens.verify(flipped, '198.51.100.1'), false);
    assert.equal(tokens.verify(token.subarray(0, 4), '198.51.100.1'), false);
    assert.equal(tokens.verify(new Uint8Array(0), '198.51.100.1'), false);
    const other = issuer(2).tokens;
    assert.equal(other.verify(token, '198.51.100.1'), false);
  });

  test('valid for at least 5 and at most 10 minutes: the previous secret is accepted, not older', () => {
    const { clock, tokens } = issuer();
    const token = tokens.issue('192.0.2.9');
    clock.advance(TOKEN_ROTATE_MS - 1);
    assert.ok(tokens.verify(token, '192.0.2.9'), 'same period');
    clock.advance(1);
    assert.ok(tokens.verify(token, '192.0.2.9'), 'one rotation later');
    assert.notDeepEqual(tokens.issue('192.0.2.9'), token, 'a new token after rotation');
    clock.advance(TOKEN_ROTATE_MS);
    assert.equal(tokens.verify(token, '192.0.2.9'), false, 'two rotations later');
  });

  test('a long silence forgets both secrets', () => {
    const { clock, tokens } = issuer();
    const token = tokens.issue('192.0.2.9');
    clock.advance(TOKEN_ROTATE_MS / 2);
    const later = tokens.issue('192.0.2.9');
    assert.deepEqual(later, token);
    clock.advance(3 * TOKEN_ROTATE_MS);
    assert.equal(tokens.verify(later, '192.0.2.9'), false);
  });
});
