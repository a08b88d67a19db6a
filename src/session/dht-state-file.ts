import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { MAX_STATE_BYTES } from '../dht/state.js';
import type { DhtStateStore } from './dht-service.js';

/**
 * The DHT state kept in one file (e.g. `<state dir>/dht.dat`). Written atomically: a temp file
 * beside it, fsync, rename; a crash leaves the old file or the new one, never half of one.
 * A file larger than the state can be is not read whole (it is refused as corrupt).
 */
export function dhtStateFile(path: string): DhtStateStore {
  return {
    async load() {
      try {
        const handle = await open(path, 'r');
        try {
          const { size } = await handle.stat();
          // Too large to be ours: a buffer of that length makes decodeDhtState refuse it.
          if (size > MAX_STATE_BYTES) return new Uint8Array(MAX_STATE_BYTES + 1);
        } finally {
          await handle.close();
        }
        return new Uint8Array(await readFile(path));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    async save(bytes) {
      await mkdir(dirname(path), { recursive: true });
      const temp = `${path}.${process.pid}.tmp`;
      try {
        const handle = await open(temp, 'w', 0o600);
        try {
          await handle.writeFile(bytes);
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(temp, path);
      } catch (error) {
        await rm(temp, { force: true });
        throw error;
      }
    },
  };
}
