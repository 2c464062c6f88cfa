// Binding a server with the start-up errors a tester can act on: a port in use or no permission is one line
// naming the option (exit 2), not a stack trace.
import type dgram from 'node:dgram';
import type net from 'node:net';
import { UsageError } from '../cli/errors';

function explain(err: NodeJS.ErrnoException, option: string, port: number, host: string): Error {
  const where = `${option} ${port} (on ${host})`;
  if (err.code === 'EADDRINUSE') return new UsageError(`${where}: the port is in use`);
  if (err.code === 'EACCES') return new UsageError(`${where}: no permission to listen there`);
  if (err.code === 'EADDRNOTAVAIL') return new UsageError(`${where}: not an address of this machine`);
  return err;
}

/** Listens on host:port; resolves with the port bound (port 0 picks one). */
export function listenTcp(server: net.Server, host: string, port: number, option: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(explain(err, option, port, host));
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
    const onError = (err: NodeJS.ErrnoException) => reject(explain(err, option, port, host));
    socket.once('error', onError);
    socket.bind(port, host, () => {
      socket.off('error', onError);
      resolve(socket.address().port);
    });
  });
}
