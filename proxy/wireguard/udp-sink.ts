// Where the tunnel's UDP goes that is neither DNS nor QUIC (see firewall.ts): nothing is passed on, and each
// destination a phone keeps sending to becomes a `udp-dropped` event with what was dropped. A burst is one
// event: a destination is reported again only after EVENT_INTERVAL_MS.
import dgram from 'node:dgram';
import type { UdpDroppedEvent } from '../../shared/types';
import { originalDestination } from '../capture/conntrack';
import { log } from '../log';
import { bindUdp } from '../util/listen';
import { LruMap } from '../util/lru-map';
import type { DnsLog } from './dns-log';

const EVENT_INTERVAL_MS = 10_000;
/** destinations tracked at once; the phone picks them, so the map is bounded */
const MAX_DESTINATIONS = 10_000;

export interface UdpSink {
  port: number;
  close(): Promise<void>;
}

export interface UdpSinkOptions {
  host: string;
  dnsLog: DnsLog;
  onDropped: (event: UdpDroppedEvent) => void;
}

export async function startUdpSink(opts: UdpSinkOptions): Promise<UdpSink> {
  const socket = dgram.createSocket('udp4');
  let port = 0;
  const seen = new LruMap<string, UdpDroppedEvent>(MAX_DESTINATIONS);
  socket.on('message', (message, from) => {
    originalDestination({ protocol: 'udp', remote: from, local: { address: opts.host, port } }).then(
      (target) => {
        const ip = target?.address ?? 'unknown';
        const key = `${from.address} ${ip}:${target?.port}`;
        const now = Date.now();
        let event = seen.get(key);
        if (event && now - event.time < EVENT_INTERVAL_MS) {
          event.packets++;
          event.bytes += message.length;
          return;
        }
        const host = target && opts.dnsLog.nameFor(from.address, target.address);
        event = { time: now, client: from.address, ip, port: target?.port ?? 0, ...(host ? { host } : {}), packets: 1, bytes: message.length };
        seen.set(key, event);
        log.info({ client: event.client, ip, port: event.port, host }, 'UDP from the tunnel dropped (only DNS is answered; QUIC is refused)');
        opts.onDropped(event);
      },
      (err: Error) => log.error({ err: err.message }, 'UDP sink: could not read the connection table'),
    );
  });
  port = await bindUdp(socket, opts.host, 0, 'the tunnel UDP sink');
  socket.on('error', (err) => log.error({ err: err.message }, 'UDP sink socket error'));
  return { port, close: () => new Promise<void>((done) => socket.close(() => done())) };
}
