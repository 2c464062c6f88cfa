// Dialling upstream servers, in one place: the trust leakscope gives upstream certificates (Node's roots plus
// `--upstream-ca`) and raw connections for tunnels that are not HTTP.
import net from 'node:net';
import tls from 'node:tls';

/**
 * Node's roots plus the tester's extra CAs as one prebuilt context, or undefined for Node's defaults. Built once:
 * a `ca` list would be concatenated into every pool key and parsed again for each new connection.
 */
export function upstreamTrust(extraCa: string[] | undefined): tls.SecureContext | undefined {
  return extraCa?.length ? tls.createSecureContext({ ca: [...tls.rootCertificates, ...extraCa] }) : undefined;
}

/** The name to send as SNI and check the certificate against: never an IP literal (RFC 6066). */
export function serverName(host: string): string | undefined {
  return net.isIP(host) ? undefined : host;
}

export interface RawDial {
  host: string;
  port: number;
  /** wrap in TLS (the phone's TLS was ended here), with this SNI and ALPN */
  tls?: { servername?: string; alpn?: string[] };
}

/**
 * A connection to the target for a raw relay. Resolves once it is up (for TLS: the handshake done and the
 * certificate checked), so a failure is known before any of the phone's bytes are sent. `lookup` is the guard's
 * (target-guard.ts), judging the address a name resolves to.
 */
export function dialRaw(dial: RawDial, trust: tls.SecureContext | undefined, lookup: net.LookupFunction): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dial.tls
      ? tls.connect({
          host: dial.host,
          port: dial.port,
          servername: dial.tls.servername ?? serverName(dial.host),
          ALPNProtocols: dial.tls.alpn,
          secureContext: trust,
          lookup,
        })
      : net.connect({ host: dial.host, port: dial.port, lookup });
    const fail = (err: Error) => {
      socket.destroy();
      reject(err);
    };
    socket.once('error', fail);
    socket.once(dial.tls ? 'secureConnect' : 'connect', () => {
      socket.off('error', fail);
      resolve(socket);
    });
  });
}
