// socket.io: every completed flow goes out as `flow`, every refused certificate as `tls-error`, UDP the
// WireGuard tunnel did not pass on as `udp-dropped`.
// A client that connects with `auth.after = lastSeenId` first gets every flow it missed, then the live ones.
import type http from 'node:http';
import { Server, type Socket } from 'socket.io';
import { SOCKET_EVENTS, type SocketAuth, type StoreStatus } from '../../shared/api';
import type { FlowSummary, TlsErrorEvent, UdpDroppedEvent } from '../../shared/types';
import { log } from '../log';
import { hasToken } from './auth';
import { allowHandshake, type HostCheck } from './host-check';

const LIVE_ROOM = 'live';
const REPLAY_BATCH = 2000;
/** A replay the store failed (a shared store away) is tried again this much later, while the client stays. */
const REPLAY_RETRY_MS = 2000;

/** The stored flows after `after`, oldest first, at most `limit`: what a reconnecting client missed. */
export type Replay = (after: number, limit: number) => FlowSummary[] | Promise<FlowSummary[]>;

export class LiveHub {
  private readonly io: Server;
  private turn: Promise<void> = Promise.resolve();
  private storeStatus: StoreStatus | undefined;

  constructor(server: http.Server, private readonly replay: Replay, token: string | undefined, hostAllowed: HostCheck) {
    this.io = new Server(server, { serveClient: false, maxHttpBufferSize: 64 * 1024, allowRequest: allowHandshake(hostAllowed) });
    this.io.use((socket, next) => {
      const auth = socket.handshake.auth as SocketAuth;
      if (hasToken(token, socket.handshake.headers.cookie, auth.token)) return next();
      next(new Error('unauthorized'));
    });
    this.io.on('connection', (socket) => {
      if (this.storeStatus) socket.emit(SOCKET_EVENTS.storeStatus, this.storeStatus);
      const after = Number((socket.handshake.auth as SocketAuth).after);
      if (Number.isFinite(after) && after >= 0) void this.exclusive(() => this.catchUp(socket, after));
      else socket.join(LIVE_ROOM);
    });
  }

  /**
   * Sends `socket` every stored flow after `after`, then lets it into the live room, in one turn of `exclusive`:
   * what publishes stored flows in turns too (a dashboard node's tail of the shared store) cannot slip a flow in
   * between. The instance's own store reads synchronously, so its replay and join happen in one tick as well.
   */
  private async catchUp(socket: Socket, after: number): Promise<void> {
    try {
      for (let cursor = after; ; ) {
        const read = this.replay(cursor, REPLAY_BATCH);
        // Not awaited when synchronous: an await would let a flow be stored and published between read and join.
        const batch = read instanceof Promise ? await read : read;
        if (socket.disconnected) return;
        for (const flow of batch) socket.emit(SOCKET_EVENTS.flow, flow);
        if (batch.length < REPLAY_BATCH) break;
        cursor = batch[batch.length - 1].id;
      }
      socket.join(LIVE_ROOM);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'a dashboard could not be caught up; trying again');
      setTimeout(() => void this.exclusive(() => this.catchUp(socket, after)), REPLAY_RETRY_MS).unref();
    }
  }

  /** Runs `task` once every replay and task before it is done. */
  exclusive(task: () => Promise<void> | void): Promise<void> {
    const run = this.turn.then(task);
    this.turn = run.catch((err: Error) => log.warn({ err: err.message }, 'a live feed task failed'));
    return this.turn;
  }

  publishFlow(flow: FlowSummary): void {
    // With no dashboard open, encoding each flow for nobody was a few percent of the proxy's time under load.
    if (!this.io.sockets.adapter.rooms.get(LIVE_ROOM)?.size) return;
    this.io.to(LIVE_ROOM).emit(SOCKET_EVENTS.flow, flow);
  }

  /** A lab's shared store became (un)reachable, or its queue changed: every dashboard, at once and on connecting. */
  publishStoreStatus(status: StoreStatus): void {
    this.storeStatus = status;
    this.io.emit(SOCKET_EVENTS.storeStatus, status);
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
