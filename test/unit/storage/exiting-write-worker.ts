/** Test double for the write worker: exits with code 3 on its first job (to test crash handling). */
import { parentPort } from 'node:worker_threads';

parentPort?.on('message', () => process.exit(3));
