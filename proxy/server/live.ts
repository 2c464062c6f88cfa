// socket.io: every completed flow goes out as `flow`, every refused certificate as `tls-error`, UDP the
// WireGuard tunnel did not pass on as `udp-dropped`.
// A client that connects with `auth.after = lastSeenId` first gets every flow it missed, then the live ones.
import type http from 'node:http';
import { Server } from 'socket.io';
import { SOCKET_EVENTS, type SocketAuth } from '../../shared/api';
import type { FlowSummary, TlsErrorEvent, UdpDroppedEvent } from '../../shared/types';
import type { FlowStore } from '../store/flow-store';
import { hasToken } from './auth';
import { allowHandshake, type HostCheck } from './host-check';

const LIVE_ROOM = 'live';
const REPLAY_BATCH = 2000;

export class LiveHub {
  private readonly io: Server;

  constructor(server: http.Server, store: FlowStore, token: string | undefined, hostAllowed: HostCheck) {
    this.io = new Server(server, { serveClient: false, maxHttpBufferSize: 64 * 1024, allowRequest: allowHandshake(hostAllowed) });
    this.io.use((socket, next) => {
      const auth = socket.handshake.auth as SocketAuth;
      if (hasToken(token, socket.handshake.headers.cookie, auth.token)) return next();
      next(new Error('unauthorized'));
    });
    this.io.on('connection', (socket) => {
      const after = Number((socket.handshake.auth as SocketAuth).after);
      if (Number.isFinite(after) && after >= 0) {
        // The store reads synchronously, so no flow can be published between the replay and joining the room:
        // the client sees every id exactly once.
        let cursor = after;
        for (;;) {
          const batch = store.summaries({ after: cursor, limit: REPLAY_BATCH });
          for (const flow of batch) socket.emit(SOCKET_EVENTS.flow, flow);
          if (batch.length < REPLAY_BATCH) break;
          cursor = batch[batch.length - 1].id;
        }
      }
      socket.join(LIVE_ROOM);
    });
  }

  publishFlow(flow: FlowSummary): void {
    // With no dashboard open, encoding each flow for nobody was a few percent of the proxy's time under load.
    if (!this.io.sockets.adapter.rooms.get(LIVE_ROOM)?.size) return;
    this.io.to(LIVE_ROOM).emit(SOCKET_EVENTS.flow, flow);
  }

  publishTlsError(event: TlsErrorEvent): void {
    this.io.to(LIVE_ROOM).emit(SOCKET_EVENTS.tlsError, event);
  }

  publishUdpDropped(event: UdpDroppedEvent): void {
    this.io.to(LIVE_ROOM).emit(SOCKET_EVENTS.udpDropped, event);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.io.close(() => resolve()));
  }
}
