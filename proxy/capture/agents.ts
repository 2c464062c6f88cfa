// The keep-alive agents upstream requests go out on: one pair for clients on this machine, one for every other
// client, so that a connection opened for the tester's own browser (which may reach local services) is never reused for
// a phone (which may not: target-guard.ts judges each new connection when it is dialled, not each reuse).
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import type { UpstreamAgents } from './forward';

export interface AgentPool {
  agents(local: boolean): UpstreamAgents;
  destroy(): void;
}

export function agentPool(upstreamCa: string[] | undefined): AgentPool {
  // A context built once rather than a `ca` list: the agent would concatenate every root certificate into
  // each request's pool key and parse them all again for each new upstream connection.
  const secureContext = upstreamCa?.length ? tls.createSecureContext({ ca: [...tls.rootCertificates, ...upstreamCa] }) : undefined;
  const pair = (): UpstreamAgents => ({
    http: new http.Agent({ keepAlive: true, maxSockets: 256 }),
    https: new https.Agent({ keepAlive: true, maxSockets: 256, secureContext }),
  });
  const local = pair();
  const remote = pair();
  return {
    agents: (isLocal) => (isLocal ? local : remote),
    destroy() {
      for (const p of [local, remote]) {
        p.http.destroy();
        p.https.destroy();
      }
    },
  };
}
