import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';

/**
 * Two ends of one TCP connection on 127.0.0.1: `local` (accepted by a throwaway server) for the
 * code under test, `remote` for the test to read and write raw bytes.
 */
export async function loopbackSocketPair(): Promise<{ local: Socket; remote: Socket }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const accepted = once(server, 'connection');
  const remote = connect(port, '127.0.0.1');
  remote.on('error', () => remote.destroy());
  const [local] = (await accepted) as [Socket];
  server.close();
  return { local, remote };
}
