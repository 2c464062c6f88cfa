// What each phone looked up through leakscope's DNS: address → name, per client. A connection from the tunnel
// that names no host (no SNI, no Host header: a raw stream, an app that pins an IP) still gets the name the
// phone resolved to reach that address.
import { LruMap } from '../util/lru-map';

/** Names are chosen by the phone: bounded like every cache keyed by what a client sends. */
const MAX_ENTRIES = 50_000;

export class DnsLog {
  private readonly names = new LruMap<string, string>(MAX_ENTRIES);

  record(client: string, name: string, addresses: string[]): void {
    for (const address of addresses) this.names.set(`${client} ${address}`, name);
  }

  /** The name `client` last resolved to `address`, if it did through leakscope. */
  nameFor(client: string, address: string): string | undefined {
    return this.names.get(`${client} ${address}`);
  }
}
