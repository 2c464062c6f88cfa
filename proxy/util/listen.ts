// Binding a server with the start-up errors a tester can act on: a port in use or no permission is one line
// naming the option (exit 2), not a stack trace.
import type dgram from 'node:dgram';
import type net from 'node:net';
import { UsageError } from '../cli/errors';

export interface ListenTarget {
  /** the options that chose it, as the tester typed them (a listener whose address is not an option has none) */
  portOption: string;
  hostOption?: string;
  host: string;
  port: number;
}

export function listenError(err: NodeJS.ErrnoException, where: ListenTarget): Error {
  const at = `${where.host.includes(':') ? `[${where.host}]` : where.host}:${where.port}`;
  const address = where.hostOption ? `${where.hostOption} ${where.host}` : `${where.portOption} ${where.port}: ${at}`;
  switch (err.code) {
    case 'EADDRINUSE':
      return new UsageError(`${where.portOption} ${where.port}: ${at} is already in use (another leakscope or proxy?); choose another port with ${where.portOption}`);
    case 'EACCES':
      return new UsageError(`${where.portOption} ${where.port}: permission denied for ${at} (ports below 1024 need root or CAP_NET_BIND_SERVICE)`);
    case 'EADDRNOTAVAIL':
      return new UsageError(`${address}: not an address of this machine`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return new UsageError(`${address}: not an address or a name of this machine`);
    default:
      return err;
  }
}

/** Listens on host:port; resolves with the port bound (port 0 picks one). */
export function listenTcp(server: net.Server, host: string, port: number, option: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(listenError(err, { portOption: option, host, port }));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

/** Binds a UDP socket on host:port; resolves with the port bound. */
export function bindUdp(socket: dgram.Socket, host: string, port: number, option: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(listenError(err, { portOption: option, host, port }));
    socket.once('error', onError);
    socket.bind(port, host, () => {
      socket.off('error', onError);
      resolve(socket.address().port);
    });
  });
}
