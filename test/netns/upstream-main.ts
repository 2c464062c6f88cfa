// The upstream of the namespace tests, run inside its own namespace: HTTPS on 443 for NAME (a certificate from
// a test CA written to CA_FILE) and a raw TCP service on 5222 that answers each read with "OK <bytes>\n".
// Each request or stream it receives is printed as one JSON line.
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import { ensureCa, LeafMinter } from '../../proxy/certs/authority';

const [caDir, caFile, name] = process.argv.slice(2);
const ca = await ensureCa(caDir);
fs.writeFileSync(caFile, ca.certPem);
const leaf = await (await LeafMinter.create(ca)).certificateFor(name);
const web = https.createServer({ key: leaf.key, cert: leaf.cert }, (req, res) => {
  req.resume();
  req.on('end', () => {
    console.log(JSON.stringify({ kind: 'http', method: req.method, url: req.url, host: req.headers.host }));
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('upstream says hello\n');
  });
});
const raw = net.createServer((socket) => {
  socket.on('data', (chunk) => {
    console.log(JSON.stringify({ kind: 'tcp', data: chunk.toString('latin1') }));
    socket.write(`OK ${chunk.length}\n`);
  });
  socket.on('error', () => undefined);
});
await new Promise<void>((r) => web.listen(443, '0.0.0.0', r));
await new Promise<void>((r) => raw.listen(5222, '0.0.0.0', r));
console.log('READY');
