// Slowloris guard: a connection gets `ms` to deliver each request's headers, then it is cut. Node's own
// headersTimeout is only checked every 30 s (connectionsCheckingInterval, fixed when http-mitm-proxy
// creates its server), far too coarse to configure or test, so the clock is kept here per socket.
import type http from 'node:http';
import type { Socket } from 'node:net';

/** Lateness of a timer beyond what a loop under ordinary load shows. */
const LATE_MS = 25;

export function limitHeaderTime(server: http.Server, ms: number, connectionEvent: 'connection' | 'secureConnection'): void {
  const timers = new WeakMap<Socket, NodeJS.Timeout>();
  const disarm = (socket: Socket) => {
    clearTimeout(timers.get(socket));
    timers.delete(socket);
  };
  const arm = (socket: Socket, wait = ms) => {
    disarm(socket);
    if (socket.destroyed) return;
    const due = performance.now() + wait;
    const timer = setTimeout(() => {
      // A timer that fires late means the loop was busy (a big body being scanned), and the client's bytes
      // may be waiting unread, or, for a client in this process, unsent: that time is not the client's.
      const late = performance.now() - due;
      if (late > LATE_MS) return arm(socket, late);
      // decided after the poll phase, which reads what has come in meanwhile
      setImmediate(() => timers.get(socket) === timer && socket.destroy());
    }, wait).unref();
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
