// The keep-alive agents upstream requests go out on: one pair for clients on this machine, one for every other
// client, so that a connection opened for the tester's own browser (which may reach local services) is never reused for
// a phone (which may not: target-guard.ts judges each new connection when it is dialled, not each reuse).
import http from 'node:http';
import https from 'node:https';
import type { UpstreamAgents } from './forward';
import { upstreamTrust } from './upstream';

export interface AgentPool {
  agents(local: boolean): UpstreamAgents;
  destroy(): void;
}

export function agentPool(upstreamCa: string[] | undefined): AgentPool {
  const secureContext = upstreamTrust(upstreamCa);
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
