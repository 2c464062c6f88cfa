// A phone's failed TLS with leakscope, told apart by cause and counted per client, host and cause: a tester
// reads "likely pinning" or "install the CA" from it, and a count of thousands from one host is one row, not a
// thousand.
import type { TlsErrorEvent, TlsFailureKind } from '../../shared/types';
import { LruMap } from '../util/lru-map';

/** What the phone did, as the terminator saw it. */
export interface TlsFailure {
  client: string;
  host: string;
  kind: TlsFailureKind;
  message: string;
  time: number;
}

// OpenSSL's reason strings for the alerts a client sends when it rejects the certificate it was shown.
const UNTRUSTED = /unknown ca|bad certificate|certificate unknown|unsupported certificate|certificate expired|certificate revoked|access denied/i;
// ... and for a handshake that found nothing in common, on either side.
const INCOMPATIBLE = /no shared cipher|unsupported protocol|wrong version number|version too low|protocol version|no application protocol|no suitable signature|no shared signature|inappropriate fallback|no shared group|handshake failure/i;

/** The cause of a handshake that failed with `err` (an OpenSSL error carries its `reason`). */
export function tlsFailureKind(err: Error & { reason?: string; code?: string }): TlsFailureKind {
  const said = `${err.reason ?? ''} ${err.code ?? ''} ${err.message}`.replace(/_/g, ' ');
  if (UNTRUSTED.test(said)) return 'untrusted';
  if (INCOMPATIBLE.test(said)) return 'incompatible';
  return 'other';
}

/** A handshake that ended with no request this soon after it looks like an app's own pinning check. */
export const PINNING_WINDOW_MS = 10_000;

/** Entries kept: bounded, as host names come from clients. */
const KEPT = 1000;

export class TlsFailureLog {
  private readonly entries = new LruMap<string, TlsErrorEvent>(KEPT);

  /** Counts `failure` in with the earlier ones of its client, host and kind; returns the entry as it now is. */
  record(failure: TlsFailure): TlsErrorEvent {
    const key = `${failure.client}\n${failure.host}\n${failure.kind}`;
    const before = this.entries.get(key);
    const entry: TlsErrorEvent = {
      time: failure.time,
      client: failure.client,
      host: failure.host,
      kind: failure.kind,
      message: failure.message,
      count: (before?.count ?? 0) + 1,
      firstSeen: before?.firstSeen ?? failure.time,
      lastSeen: failure.time,
    };
    this.entries.set(key, entry);
    return entry;
  }

  /** Every entry, the most recently seen first. */
  list(): TlsErrorEvent[] {
    return [...this.entries.values()].sort((a, b) => b.lastSeen - a.lastSeen);
  }
}
