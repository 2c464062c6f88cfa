// Raw sockets for sending what no well-behaved HTTP client would.
import net from 'node:net';

export interface RawResult {
  data: string;
  /** true if the other side closed the connection before `waitMs` */
  closed: boolean;
}

export function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Collects what arrives on `socket` until it closes or `waitMs` passes (then destroys it). */
export function collect(socket: net.Socket, waitMs: number): Promise<RawResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ data: Buffer.concat(chunks).toString('latin1'), closed });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => {});
    socket.once('close', () => finish(true));
  });
}

/** Sends `bytes` on a fresh connection and collects the answer. */
export async function exchange(port: number, bytes: string | Buffer, waitMs = 3000): Promise<RawResult> {
  const socket = await connect(port);
  socket.write(bytes);
  return collect(socket, waitMs);
}

/** Opens a CONNECT tunnel to `target` and resolves with the socket once the proxy said 200. */
export async function tunnel(port: number, target: string): Promise<net.Socket> {
  const socket = await connect(port);
  socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
  await new Promise<void>((resolve, reject) => {
    let head = '';
    const onData = (c: Buffer) => {
      head += c.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      if (head.startsWith('HTTP/1.1 200')) resolve();
      else reject(new Error(`CONNECT refused: ${head.split('\r\n')[0]}`));
    };
    socket.on('data', onData);
  });
  return socket;
}
