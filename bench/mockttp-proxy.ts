// mockttp (HTTP Toolkit's engine) as the benchmark's second peer: a plain pass-through proxy with its own CA
// for clients, trusting the upstream's CA, HTTP/2 offered to clients that offer it (and then to the upstream),
// traffic not kept in memory. Run as its own process, like the others, so it has an event loop to itself.
//   node --import tsx bench/mockttp-proxy.ts PORT UPSTREAM_CA_FILE CA_OUT_FILE
// Prints `listening` once it serves.
import fs from 'node:fs';
import * as mockttp from 'mockttp';

const [port, upstreamCaFile, caOut] = process.argv.slice(2);
const ca = await mockttp.generateCACertificate();
fs.writeFileSync(caOut, ca.cert);
const server = mockttp.getLocal({ https: { key: ca.key, cert: ca.cert }, http2: true, recordTraffic: false });
await server.forAnyRequest().thenPassThrough({ additionalTrustedCAs: [{ certPath: upstreamCaFile }] });
await server.start(Number(port));
process.stdout.write('listening\n');
process.on('SIGTERM', () => void server.stop().then(() => process.exit(0)));
