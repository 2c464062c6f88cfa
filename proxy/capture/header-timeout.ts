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
    if (socket.destroyed) return;
    // Decided a turn later, after the poll phase: when the loop itself was late (a big body being scanned), the
    // headers may be waiting unread in the socket, and they count as in time.
    const timer = setTimeout(() => setImmediate(() => timers.get(socket) === timer && socket.destroy()), ms).unref();
    timers.set(socket, timer);
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
  // A CONNECT or an upgrade leaves HTTP behind: what flows next is not headers. A tunnel may be silent by
  // design (its server speaks first); a TLS handshake and the requests inside keep their own clocks.
  server.on('connect', (_req: http.IncomingMessage, socket: Socket) => disarm(socket));
  server.on('upgrade', (_req: http.IncomingMessage, socket: Socket) => disarm(socket));
}
