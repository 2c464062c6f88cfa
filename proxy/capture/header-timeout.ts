// Slowloris guard: a connection gets `ms` to deliver each request's headers, then it is cut. Node's own
// headersTimeout is only checked every 30 s (connectionsCheckingInterval, fixed when http-mitm-proxy
// creates its server), far too coarse to configure or test, so the clock is kept here per socket.
import type http from 'node:http';
import type { Socket } from 'node:net';

export function limitHeaderTime(server: http.Server, ms: number, connectionEvent: 'connection' | 'secureConnection'): void {
  const timers = new WeakMap<Socket, NodeJS.Timeout>();
  const disarm = (socket: Socket) => {
    clearTimeout(timers.get(socket));
    timers.delete(socket);
  };
  const arm = (socket: Socket) => {
    disarm(socket);
    if (!socket.destroyed) timers.set(socket, setTimeout(() => socket.destroy(), ms).unref());
  };
  server.on(connectionEvent, (socket: Socket) => {
    arm(socket);
    socket.once('close', () => disarm(socket));
  });
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    disarm(req.socket);
    // The next request on a kept-alive connection gets its own allowance, counted from this response's end.
    res.once('finish', () => arm(req.socket));
  });
  // A CONNECT tunnel must at least start (a ClientHello) within the allowance; after that the TLS side
  // keeps its own clock.
  server.on('connect', (_req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    if (head.length > 0) disarm(socket);
    else socket.once('data', () => disarm(socket));
  });
  // An upgrade leaves HTTP behind: what flows next is not headers.
  server.on('upgrade', (_req: http.IncomingMessage, socket: Socket) => disarm(socket));
}
