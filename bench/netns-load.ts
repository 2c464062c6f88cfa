// The load generator of bench/wireguard.ts, run inside the phone's namespace: URL CA_FILE PROXY|- CONNECTIONS
// SECONDS; prints the LoadResult as JSON. PROXY is host:port of an explicit proxy, `-` for none.
import fs from 'node:fs';
import { dispatcher, runLoad } from './load';

const [url, caFile, proxy, connections, seconds] = process.argv.slice(2);
const [host, port] = proxy === '-' ? [undefined, undefined] : proxy.split(':');
const d = dispatcher(fs.readFileSync(caFile, 'utf8'), Number(connections), port ? Number(port) : undefined, host);
const result = await runLoad({ dispatcher: d, url, connections: Number(connections), durationMs: Number(seconds) * 1000 });
await d.close();
console.log(JSON.stringify(result));
