// The upstream diallers requests go out through: one for clients on this machine, one for every other client, so
// that a connection (or an HTTP/2 session) opened for the tester's own browser, which may reach local services, is
// never reused for a phone, which may not: target-guard.ts judges each new connection when it is dialled, not
// each reuse.
import type http from 'node:http';
import type https from 'node:https';
import type tls from 'node:tls';
import type { UpstreamAgents } from './forward';
import { Upstream, upstreamTrust } from './upstream';

export interface AgentPool {
  /** Node's roots plus `--upstream-ca`, for raw tunnels dialled outside the agents */
  trust: tls.SecureContext | undefined;
  agents(local: boolean): UpstreamAgents;
  open(local: boolean, isSSL: boolean, options: https.RequestOptions): http.ClientRequest;
  destroy(): void;
}

export function agentPool(upstreamCa: string[] | undefined): AgentPool {
  const trust = upstreamTrust(upstreamCa);
  const local = new Upstream(trust);
  const remote = new Upstream(trust);
  const of = (isLocal: boolean) => (isLocal ? local : remote);
  return {
    trust,
    agents: (isLocal) => ({ http: of(isLocal).httpAgent, https: of(isLocal).httpsAgent }),
    open: (isLocal, isSSL, options) => of(isLocal).request(isSSL, options),
    destroy() {
      local.close();
      remote.close();
    },
  };
}
