/** `session-stats`: counts, speeds and byte totals over the daemon's torrents. */
import type { DaemonSessionStats } from './daemon-api.js';
import type { DaemonTorrentEntry } from './daemon-torrent.js';
import type { CumulativeStats } from './torrent-state.js';

/**
 * The stats now: `current` and `cumulative` hold the bytes of runs already stopped; the running
 * sessions' bytes are added here. `seconds` is this run's time so far.
 */
export function sessionStats(
  torrents: readonly DaemonTorrentEntry[],
  current: CumulativeStats,
  cumulative: CumulativeStats,
  seconds: number,
): DaemonSessionStats {
  let downloadSpeed = 0;
  let uploadSpeed = 0;
  let active = 0;
  let paused = 0;
  let runUp = 0;
  let runDown = 0;
  for (const entry of torrents) {
    const stats = entry.session?.stats();
    downloadSpeed += stats?.downloadRate ?? 0;
    uploadSpeed += stats?.uploadRate ?? 0;
    if (entry.state.paused) paused++;
    else if ((stats?.downloadRate ?? 0) + (stats?.uploadRate ?? 0) > 0) active++;
    runUp += stats?.uploadedBytes ?? 0;
    runDown += stats?.downloadedBytes ?? 0;
  }
  return {
    torrentCount: torrents.length,
    activeTorrentCount: active,
    pausedTorrentCount: paused,
    downloadSpeed,
    uploadSpeed,
    current: {
      ...current,
      uploadedBytes: current.uploadedBytes + runUp,
      downloadedBytes: current.downloadedBytes + runDown,
      secondsActive: seconds,
    },
    cumulative: {
      ...cumulative,
      uploadedBytes: cumulative.uploadedBytes + runUp,
      downloadedBytes: cumulative.downloadedBytes + runDown,
      secondsActive: cumulative.secondsActive + seconds,
    },
  };
}
