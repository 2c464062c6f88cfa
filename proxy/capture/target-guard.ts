// Where a proxy client may not go through leakscope. The app under test is untrusted and leakscope runs on the
// tester's machine, so a phone must not reach what listens only there: loopback and link-local services (a
// database on 127.0.0.1, the cloud metadata address), the dashboard, and leakscope's own listeners, which would
// make a request loop through leakscope until something gives up.
//
// Each check runs twice: on the name or literal the client asked for, before anything is dialled, and on the
// address a name resolves to, at the moment of dialling (a name can resolve to 127.0.0.1, and resolve to
// something else the second time it is asked: checking an earlier answer would be a rebinding gap).
import crypto from 'node:crypto';
import dns from 'node:dns';
import type net from 'node:net';
import os from 'node:os';
import { isLocalTarget, isLoopbackHost } from '../util/addresses';

/** A refusal: answered to the client with this status and text (and recorded, as any request is). */
export interface Refusal {
  /** 403 a forbidden target, 508 a loop, 431 a head too large to pass on */
  status: 403 | 431 | 508;
  text: string;
}

export interface OwnListener {
  /** what listens: 'dashboard' is refused to remote clients, every other listener to everyone (a loop) */
  role: 'dashboard' | 'proxy' | 'transparent' | 'wireguard';
  /** the address it is bound to; `0.0.0.0` or `::` for every address of the machine */
  host: string;
  port: number;
}

export interface TargetGuardOptions {
  /** leakscope's own listeners, read on every check (ports are known only once they listen) */
  listeners: () => OwnListener[];
  /** `--allow-local-targets`: remote clients may reach loopback and link-local addresses */
  allowLocalTargets?: boolean;
}

/** The error a guarded lookup fails with: forward answers it with its status and text. */
export class RefusedTarget extends Error {
  readonly code = 'ELEAKSCOPE_REFUSED';
  constructor(readonly refusal: Refusal) {
    super(refusal.text);
  }
}

export interface TargetGuard {
  /** A refusal for `client` asking for `host:port`, judged on the name or literal as asked. */
  check(client: string, host: string, port: number): Refusal | undefined;
  /**
   * A DNS lookup for dialling `port` on behalf of a client on this machine (`local`, see isThisMachine) or another: it fails with
   * RefusedTarget where any address the name resolves to would be refused by `check`.
   */
  lookup(local: boolean, port: number): net.LookupFunction;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

const LOOP = (port: number): Refusal => ({
  status: 508,
  text: `leakscope: refused: port ${port} of this machine is leakscope itself (the request would loop back into the proxy)`,
});
const DASHBOARD: Refusal = { status: 403, text: 'leakscope: refused: the dashboard is not reachable through the proxy' };
const LOCAL = (host: string): Refusal => ({
  status: 403,
  text: `leakscope: refused: ${host} is on the tester's machine (loopback or link-local), which proxy clients cannot reach (start with --allow-local-targets to open it)`,
});

function bare(host: string): string {
  return host.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '').replace(/%.*$/, '');
}

/**
 * Whether a name or address is this machine (loopback, or one of its interfaces' addresses, read when asked:
 * interfaces come and go while leakscope runs). A client at such an address is the tester's own machine.
 */
export function isThisMachine(address: string): boolean {
  address = bare(address);
  if (isLocalTarget(address) || isLoopbackHost(address) || address === os.hostname().toLowerCase()) return true;
  return Object.values(os.networkInterfaces()).some((infos) => infos?.some((i) => bare(i.address) === address));
}

/** Whether `address` of this machine reaches a listener bound to `bound`. */
function reaches(address: string, bound: string): boolean {
  const b = bare(bound);
  if (WILDCARDS.has(b)) return true;
  return address === b || (address === 'localhost' && isLoopbackHost(b));
}

export function targetGuard(opts: TargetGuardOptions): TargetGuard {
  function judge(local: boolean, host: string, port: number): Refusal | undefined {
    const address = bare(host);
    if (!isThisMachine(address)) return undefined;
    for (const listener of opts.listeners()) {
      if (listener.port !== port || !reaches(address, listener.host)) continue;
      if (listener.role !== 'dashboard') return LOOP(port);
      if (!local) return DASHBOARD;
    }
    if (!local && !opts.allowLocalTargets && (isLocalTarget(address) || isLoopbackHost(address))) return LOCAL(address);
    return undefined;
  }

  return {
    check: (client, host, port) => judge(isThisMachine(client), host, port),
    lookup(local, port) {
      return ((hostname: string, options: dns.LookupOptions, callback: (...args: unknown[]) => void) => {
        dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
          if (err) return callback(err);
          const refusal = addresses.map((a) => judge(local, a.address, port)).find(Boolean);
          if (refusal) return callback(new RefusedTarget(refusal));
          if (options.all) return callback(null, addresses);
          callback(null, addresses[0].address, addresses[0].family);
        });
      }) as unknown as net.LookupFunction;
    },
  };
}

/** A per-process `Via` entry (RFC 9110 §7.6.3), so that two leakscopes chained on purpose are not a loop. */
export function newViaToken(): string {
  return `leakscope-${crypto.randomBytes(6).toString('hex')}`;
}

/** A request that already passed through this leakscope (its Via names us): it has come round in a loop. */
export function viaLoop(via: string | string[] | undefined, token: string): Refusal | undefined {
  const entries = (Array.isArray(via) ? via : [via ?? '']).join(',').split(',');
  if (!entries.some((entry) => entry.trim().split(/\s+/)[1] === token)) return undefined;
  return { status: 508, text: 'leakscope: refused: this request has already passed through this leakscope (its Via header says so): a proxy loop' };
}
