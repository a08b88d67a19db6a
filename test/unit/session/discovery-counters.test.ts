import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LodestoneError } from '../../../src/errors.js';
import { MseError } from '../../../src/net/mse/errors.js';
import { DiscoveryCounters } from '../../../src/session/discovery-counters.js';
import { classifyCloseReason, classifyDialError } from '../../../src/session/peer-failure.js';

describe('peer failure reasons', { timeout: 10_000 }, () => {
  test('dial errors map to the closed set', () => {
    const io = (text: string) => new LodestoneError('LODESTONE_ERR_IO', text);
    assert.equal(
      classifyDialError(io('cannot connect to 127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1')).failure,
      'refused',
    );
    assert.equal(classifyDialError(io('cannot connect to 10.0.0.1:1: timed out')).failure, 'timeout');
    assert.equal(classifyDialError(io('no encryption handshake from peer')).failure, 'timeout');
    assert.equal(
      classifyDialError(io('connection closed during the encryption handshake')).failure,
      'dropped',
    );
    assert.equal(classifyDialError(io('read ECONNRESET')).failure, 'dropped');
    assert.equal(
      classifyDialError(new MseError('bad-vc', 'bad verification constant')).failure,
      'encryption-failed',
    );
    assert.deepEqual(classifyDialError(io('EHOSTUNREACH')), { failure: 'other', message: 'EHOSTUNREACH' });
  });

  test('close reasons map to the closed set, before and after the handshake', () => {
    assert.equal(classifyCloseReason('peer answered with another info-hash', false), 'wrong-info-hash');
    assert.equal(classifyCloseReason('no handshake from peer', false), 'timeout');
    assert.equal(classifyCloseReason('connection closed by peer', false), 'dropped');
    assert.equal(classifyCloseReason('connection closed by peer', true), 'dropped');
    assert.equal(
      classifyCloseReason('handshake protocol is not "BitTorrent protocol"', false),
      'handshake-failed',
    );
    assert.equal(classifyCloseReason('message of 99999999 bytes is too long', true), 'other');
  });
});

describe('DiscoveryCounters', { timeout: 10_000 }, () => {
  test('counts trackers and peers by outcome; a close before the handshake is a failed attempt', () => {
    const counters = new DiscoveryCounters();
    counters.trackerAnswered(12);
    counters.trackerAnswered(3);
    counters.trackerFailed();
    counters.dialFailed('refused');
    counters.dialFailed('refused');
    counters.dialFailed('timeout');
    counters.peerConnected('127.0.0.1:1');
    counters.peerDisconnected('127.0.0.1:1', 'connection closed by peer');
    counters.peerDisconnected('127.0.0.1:2', 'peer answered with another info-hash');
    const summary = counters.summary();
    assert.deepEqual(summary.trackers, { answered: 2, failed: 1, peers: 15 });
    assert.equal(summary.peers.tried, 5);
    assert.equal(summary.peers.connected, 1);
    assert.equal(summary.peers.failed.refused, 2);
    assert.equal(summary.peers.failed.timeout, 1);
    assert.equal(summary.peers.failed['wrong-info-hash'], 1);
    assert.equal(summary.peers.failed.dropped, 0, 'a connected peer leaving later is no failure to connect');
    assert.equal(
      counters.describe(),
      'trackers: 2 answered (15 peers), 1 failed; peers: 5 tried, 1 connected, failed: 2 refused, 1 timeout, 1 wrong-info-hash',
    );
  });
});
