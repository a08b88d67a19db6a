import cliProgress from 'cli-progress';
import type { SessionStats } from '../index.js';
import { formatBytes } from '../metainfo/index.js';
import { writeJsonLine } from './json-lines.js';
import { terminalText } from './terminal-text.js';

export type ReporterMode = 'tty' | 'plain' | 'json' | 'quiet';

export function chooseMode(options: { json?: boolean; quiet?: boolean }): ReporterMode {
  if (options.json) return 'json';
  if (options.quiet) return 'quiet';
  return process.stdout.isTTY ? 'tty' : 'plain';
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * Everything the CLI shows while a torrent runs: a live bar on a terminal,
 * periodic plain lines otherwise, one JSON object per line with --json, and
 * log lines (verbose/trace) that never tear the bar.
 */
export class Reporter {
  readonly mode: ReporterMode;
  readonly #multibar: cliProgress.MultiBar | undefined;
  #bar: cliProgress.SingleBar | undefined;
  #lastPlainAt = 0;
  readonly #startedAt = Date.now();

  constructor(mode: ReporterMode) {
    this.mode = mode;
    if (mode === 'tty') {
      this.#multibar = new cliProgress.MultiBar(
        {
          format:
            '{bar} {percentage}% | {done}/{size} | ↓ {down}/s ↑ {up}/s | {peers} peers ({seeds} seeds) | ETA {etaText}{note}',
          barsize: 24,
          hideCursor: true,
          clearOnComplete: false,
          stopOnComplete: false,
          etaBuffer: 10,
          fps: 5,
        },
        cliProgress.Presets.shades_classic,
      );
    }
  }

  /**
   * A human-readable status line (stderr on terminals, stdout lines in plain mode). Lines embed
   * names, tracker messages and peer reasons: they are escaped here (terminalText), once, for all.
   */
  info(text: string): void {
    if (this.mode === 'json' || this.mode === 'quiet') return;
    if (this.#multibar) this.#multibar.log(`${terminalText(text)}\n`);
    else process.stdout.write(`${terminalText(text)}\n`);
  }

  /** Diagnostic output (verbose and trace): always stderr, above the bar; escaped like info(). */
  log(text: string): void {
    if (this.#multibar) this.#multibar.log(`${terminalText(text)}\n`);
    else process.stderr.write(`${terminalText(text)}\n`);
  }

  /** One `--json` line; the lines of one event-loop turn go out in one write (json-lines.ts). */
  event(type: string, fields: Record<string, unknown> = {}): void {
    if (this.mode !== 'json') return;
    writeJsonLine(`${JSON.stringify({ type, time: new Date().toISOString(), ...fields })}\n`);
  }

  /** `note`: why nothing is happening (a stall), shown on the progress line. */
  progress(stats: SessionStats, note?: string): void {
    // The wanted files' bytes (every file's, without --files/--skip).
    const left = stats.wantedBytes - stats.wantedVerifiedBytes;
    const eta = stats.downloadRate > 0 ? left / stats.downloadRate : Number.POSITIVE_INFINITY;
    const payload = {
      done: formatBytes(stats.wantedVerifiedBytes),
      size: formatBytes(stats.wantedBytes),
      down: formatBytes(stats.downloadRate),
      up: formatBytes(stats.uploadRate),
      peers: stats.peers,
      seeds: stats.seeds,
      etaText: left === 0 ? 'done' : formatDuration(eta),
      // A stall note quotes tracker errors: remote text.
      note: note ? ` | ${terminalText(note)}` : '',
    };
    const percent = stats.wantedBytes === 0 ? 100 : (stats.wantedVerifiedBytes / stats.wantedBytes) * 100;
    switch (this.mode) {
      case 'tty':
        if (!this.#bar)
          this.#bar = this.#multibar!.create(stats.wantedBytes, stats.wantedVerifiedBytes, payload);
        else this.#bar.update(stats.wantedVerifiedBytes, payload);
        return;
      case 'plain': {
        const now = Date.now();
        if (now - this.#lastPlainAt < 2000 && left > 0) return;
        this.#lastPlainAt = now;
        process.stdout.write(
          `${percent.toFixed(1)}% ${payload.done}/${payload.size} down ${payload.down}/s up ${payload.up}/s ` +
            `peers ${stats.peers} (${stats.seeds} seeds) eta ${payload.etaText}${note ? ` - ${terminalText(note)}` : ''}\n`,
        );
        return;
      }
      case 'json':
        this.event('progress', {
          percent: Number(percent.toFixed(2)),
          verifiedBytes: stats.verifiedBytes,
          totalBytes: stats.totalLength,
          wantedBytes: stats.wantedBytes,
          wantedVerifiedBytes: stats.wantedVerifiedBytes,
          downloadRate: Math.round(stats.downloadRate),
          uploadRate: Math.round(stats.uploadRate),
          uploadedBytes: stats.uploadedBytes,
          peers: stats.peers,
          seeds: stats.seeds,
          pieces: stats.piecesVerified,
          pieceCount: stats.pieceCount,
          ...(note ? { stalled: note } : {}),
        });
        return;
      case 'quiet':
        return;
    }
  }

  elapsedSeconds(): number {
    return (Date.now() - this.#startedAt) / 1000;
  }

  stop(): void {
    this.#multibar?.stop();
  }
}
