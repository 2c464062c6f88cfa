// Ends a phone's TLS in process, on the connection's own socket: a leaf from our CA for the name the phone
// asked for (SNI, else the target), and an ALPN answer from what the phone offered.
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { LeafMinter } from '../certs/authority';
import { LruMap } from '../util/lru-map';

/** A DNS name as SNI carries it (RFC 6066: ASCII, no trailing dot); anything else gets the target's certificate. */
const SNI_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * Hosts whose TLS context is kept. Host names come from clients (CONNECT target, SNI), so the cache is bounded: a
 * client sending millions of names must not grow memory without limit. A context is far heavier than its leaf
 * certificate: OpenSSL's SSL_CTX is ~33 KiB of native memory (measured: +320 MB RSS for 10,000 contexts, against
 * +14 MB of heap for 10,000 leaves), so this cap is lower than the leaf cache's (LEAF_CACHE_HOSTS): at most
 * ~33 MB. A phone talks to a few hundred hosts over hours, so a tester never reaches it, and rebuilding an
 * evicted host's context from its still cached leaf takes about a millisecond.
 */
const TLS_CONTEXT_CACHE_HOSTS = 1_000;

/** The protocols leakscope itself can read once TLS is ended, in the order it prefers them. */
export const READABLE_ALPN: readonly string[] = ['h2', 'http/1.1'];

/**
 * The phone's offer answered: a protocol leakscope reads if it offered one; otherwise its own first choice, so a
 * protocol leakscope only relays (MQTT's `mqtt`, say) still gets through rather than failing the handshake.
 */
export function chooseAlpn(offered: string[]): string {
  return READABLE_ALPN.find((p) => offered.includes(p)) ?? offered[0];
}

/** Our own failure to make the leaf, not the phone's: logged, never filed as a TLS failure of the client. */
export class MintFailed extends Error {}

export interface Terminated {
  socket: tls.TLSSocket;
  /** the name the phone asked for, if it sent a usable one */
  servername?: string;
  /** what the phone offered in ALPN (empty: no ALPN) */
  offered: string[];
}

export class TlsTerminator {
  /** TLS contexts per target or SNI host: a host's certificate is minted and parsed once while it is in use. */
  private readonly contexts = new LruMap<string, Promise<tls.SecureContext>>(TLS_CONTEXT_CACHE_HOSTS);

  constructor(
    private readonly minter: LeafMinter,
    /** ms the phone gets to complete the handshake */
    private readonly handshakeMs: number,
  ) {}

  contextFor(host: string): Promise<tls.SecureContext> {
    let entry = this.contexts.get(host);
    if (!entry) {
      const made = this.minter.certificateFor(host).then((leaf) => tls.createSecureContext({ key: leaf.key, cert: leaf.cert }));
      this.contexts.set(host, made);
      made.catch(() => this.contexts.deleteIf(host, made));
      entry = made;
    }
    return entry;
  }

  /**
   * Runs the handshake as the server for `host` on `socket` (bytes already read from it must have been put back).
   * Resolves with the secure socket once the handshake is done; rejects with the handshake's error.
   */
  async terminate(socket: Duplex, host: string): Promise<Terminated> {
    const secureContext = await this.contextFor(host).catch((err: Error) => {
      throw new MintFailed(err.message);
    });
    if (socket.destroyed) throw new Error('the phone closed the connection before the handshake');
    let servername: string | undefined;
    let offered: string[] = [];
    const secure = new tls.TLSSocket(socket, {
      isServer: true,
      secureContext,
      ALPNCallback: ({ protocols }) => {
        offered = protocols;
        return chooseAlpn(protocols);
      },
      // Apps that resolve names themselves connect to an address and name the host only in SNI: the certificate
      // must be for the name they check. Without SNI, the target's context above serves.
      SNICallback: (name, done) => {
        if (!SNI_NAME.test(name)) return done(null, secureContext);
        servername = name.toLowerCase();
        this.contextFor(servername).then((context) => done(null, context), (err: Error) => done(err));
      },
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => secure.destroy(new Error('the phone did not complete the TLS handshake in time')), this.handshakeMs).unref();
      const onError = (err: Error) => {
        clearTimeout(timer);
        secure.destroy();
        reject(err);
      };
      secure.once('error', onError);
      secure.once('secure', () => {
        clearTimeout(timer);
        // As tls.Server does on a handshake: node's HTTP/2 session would otherwise wait for a 'secureConnect'
        // that a server-side socket never emits.
        (secure as tls.TLSSocket & { secureConnecting: boolean }).secureConnecting = false;
        secure.off('error', onError);
        resolve({ socket: secure, servername, offered });
      });
      socket.resume();
    });
  }
}
