/**
 * Real BitTorrent clients (aria2, Transmission, qBittorrent) as seeders and
 * leechers on their own loopback addresses, for integration tests and the
 * benchmark. Every start* function resolves once the client's control API
 * answers and the torrent is added; then await `waitSeeding()` (seeders) or
 * `waitComplete()` (leechers).
 *
 * Always register the stop right after starting, so the process is killed
 * even when the test fails:
 *
 *   const address = nextLoopbackAddress();
 *   const seeder = await startAria2Seeder({ torrentPath, dataDir, address });
 *   t.after(() => seeder.stop());
 *   await seeder.waitSeeding(30_000);
 *
 * As a last resort every client still running is SIGKILLed when the test
 * process exits or receives SIGINT/SIGTERM/SIGHUP, and a per-client watchdog
 * (`sh`, checks once a second) ends it by PID if the test process vanished
 * without running any handler (SIGKILL). Set LODESTONE_KEEP_CLIENT_DIRS=1 to
 * keep the temp profiles and logs (client.log) for a look.
 *
 * Readiness: waitSeeding() resolves only when the client's own API reports
 * 100 % verified and seeding, its PID listens on address:port, and (when a
 * torrent file was given) it answers a handshake with every piece. Whether
 * the tracker lists it is a separate check: waitTrackerListsPeer().
 *
 * Who dials whom on loopback: aria2 and qBittorrent leechers dial peers from
 * the tracker; Transmission never dials 127.0.0.0/8; as seeders, only aria2
 * was seen dialing new leechers (use `--bt-tracker-interval=1` in extraArgs so
 * it re-announces and finds them).
 */
export {
  type Aria2LeecherOptions,
  type Aria2SeederOptions,
  startAria2Leecher,
  startAria2Seeder,
} from './aria2.js';
export { RealClientError, type RealClientHandle, type RealLeecherHandle } from './common.js';
export {
  type ContentSpec,
  createTorrentWithMktorrent,
  type MktorrentOptions,
  magnetUri,
  makeRandomContent,
  readTorrentFacts,
  type TorrentFacts,
  type WrittenContent,
} from './content.js';
export { freePort, listensOn, nextLoopbackAddress } from './net.js';
export {
  announceToTracker,
  type HandshakeProbeResult,
  isCompleteBitfield,
  type ListedPeer,
  probeHandshake,
  servesCompleteTorrent,
  waitTrackerListsPeer,
} from './probes.js';
export {
  type QbittorrentLeecherOptions,
  type QbittorrentSeederOptions,
  startQbittorrentLeecher,
  startQbittorrentSeeder,
} from './qbittorrent.js';
export {
  startTransmissionLeecher,
  startTransmissionSeeder,
  type TransmissionLeecherOptions,
  type TransmissionSeederOptions,
} from './transmission.js';
