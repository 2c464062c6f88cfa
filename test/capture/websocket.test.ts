// A WebSocket whole, through a real TLS tunnel: the server's own handshake answer (its subprotocol) reaches the
// phone, messages pass both ways in order, and the connection is one flow with the handshake and every message,
// a finding naming its message while the connection is still open, and HAR in Chrome DevTools' form.
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import harValidator from 'har-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import type { Flow, FlowSummary } from '../../shared/types';
import { ensureCa, LeafMinter } from '../../proxy/certs/authority';
import { tunnel } from '../faults/raw';
import { asDashboard, startTestLeakscope, tempDir, waitFor, type TestLeakscope } from '../helpers/leakscope';

const IMEI = '865123456789012';

describe('WebSocket flows', () => {
  let server: https.Server;
  let port: number;
  let app: TestLeakscope;

  beforeAll(async () => {
    const files = await ensureCa(path.join(tempDir(), 'upstream-ca'));
    const leaf = await (await LeafMinter.create(files)).certificateFor('127.0.0.1');
    server = https.createServer(leaf, (_req, res) => {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('no such page');
    });
    server.on('upgrade', (req, socket) => {
      // A server that turns some upgrades down: the phone must get its answer as it was.
      if (req.url === '/closed') socket.end('HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: 13\r\n\r\nnot for you\r\n');
    });
    const wss = new WebSocketServer({ noServer: true, handleProtocols: (offered) => (offered.has('chat.v2') ? 'chat.v2' : false) });
    server.on('upgrade', (req, socket, head) => {
      if (req.url !== '/chat') return;
      wss.handleUpgrade(req, socket, head, (ws) => {
        ws.send(Buffer.from([0xde, 0xad, 0xbe, 0xef])); // the server speaks first, in binary
        ws.on('message', (data, isBinary) => ws.send(isBinary ? data : `echo ${data.toString()}`, { binary: isBinary }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    const identifiersFile = path.join(tempDir(), 'ids.json');
    fs.writeFileSync(identifiersFile, JSON.stringify({ devices: [{ name: 'RedMi 1S', imei: [IMEI] }] }));
    app = await startTestLeakscope({ upstreamCaPem: files.certPem, identifiersFile });
  });

  afterAll(async () => {
    await app?.close();
    server?.closeAllConnections();
    server?.close();
  });

  /** A phone's WebSocket: its TLS inside a CONNECT tunnel through leakscope, trusting leakscope's CA. */
  async function phoneSocket(urlPath: string, protocols: string[]): Promise<{ ws: WebSocket; inbox: (Buffer | string)[] }> {
    const raw = await tunnel(app.proxyPort, `127.0.0.1:${port}`);
    const secure = tls.connect({ socket: raw, host: '127.0.0.1', ca: app.caPem });
    const ws = new WebSocket(`wss://127.0.0.1:${port}${urlPath}`, protocols, { createConnection: () => secure });
    const inbox: (Buffer | string)[] = [];
    ws.on('message', (data: Buffer, isBinary) => inbox.push(isBinary ? data : data.toString()));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    return { ws, inbox };
  }

  const api = async <T>(p: string): Promise<T> => (await fetch(`${app.uiUrl}${p}`)).json() as Promise<T>;
  const webSocketFlow = (url: string, ready: (flow: Flow) => boolean, what: string) =>
    waitFor(async () => {
      const summary = (await api<FlowSummary[]>('api/flows?limit=500')).find((f) => f.url === url);
      const flow = summary && (await api<Flow>(`api/flows/${summary.id}`));
      return flow && ready(flow) ? flow : undefined;
    }, 5000, what);

  it('records the handshake and every message both ways in one flow, the finding marked while the connection is open', async () => {
    const url = `wss://127.0.0.1:${port}/chat`;
    const { ws, inbox } = await phoneSocket('/chat', ['chat.v1', 'chat.v2']);
    expect(ws.protocol).toBe('chat.v2'); // the server's choice, not a proxy's
    ws.send('{"hello":"world"}');
    ws.send(JSON.stringify({ device: { imei: IMEI } }));
    ws.send(Buffer.from([1, 2, 3]));
    await waitFor(() => inbox.length >= 4 || undefined, 5000, 'the echoes');

    // Stored at open and updated as it goes: the finding is there before the phone closes.
    const open = await webSocketFlow(url, (f) => f.findings.length > 0, 'the finding, live');
    expect(open.closedBy).toBeUndefined();
    const marked = open.findings.find((f) => f.type === 'imei')!;
    expect(marked).toMatchObject({ value: IMEI, where: 'websocket' });
    expect(JSON.parse(open.messages![marked.message!].data)).toEqual({ device: { imei: IMEI } });

    ws.close(1000, 'bye');
    await new Promise((r) => ws.once('close', r));
    expect(inbox).toEqual([Buffer.from([0xde, 0xad, 0xbe, 0xef]), 'echo {"hello":"world"}', `echo {"device":{"imei":"${IMEI}"}}`, Buffer.from([1, 2, 3])]);

    const flow = await webSocketFlow(url, (f) => f.closedBy !== undefined, 'the flow, closed');
    expect(flow).toMatchObject({ kind: 'websocket', method: 'GET', status: 101, closedBy: 'client', device: 'RedMi 1S' });
    expect(flow.requestHeaders['sec-websocket-protocol']).toBe('chat.v1,chat.v2');
    expect(flow.responseHeaders?.['sec-websocket-protocol']).toBe('chat.v2');
    // Each direction in the order it went; how the two interleave is the network's business.
    const listed = (type: string) => flow.messages!.filter((m) => m.type === type).map((m) => [m.opcode, m.data]);
    expect(listed('send')).toEqual([
      [1, '{"hello":"world"}'],
      [1, `{"device":{"imei":"${IMEI}"}}`],
      [2, Buffer.from([1, 2, 3]).toString('base64')],
    ]);
    expect(listed('receive')).toEqual([
      [2, Buffer.from([0xde, 0xad, 0xbe, 0xef]).toString('base64')],
      [1, 'echo {"hello":"world"}'],
      [1, `echo {"device":{"imei":"${IMEI}"}}`],
      [2, Buffer.from([1, 2, 3]).toString('base64')],
    ]);
    expect(flow.messages!.every((m) => m.size > 0 && m.time >= flow.timings.start)).toBe(true);

    const har = await (await fetch(`${app.uiUrl}api/export.har`, asDashboard(app))).json();
    await expect(harValidator.har(har)).resolves.toBeTruthy();
    const entry = har.log.entries.find((e: { request: { url: string } }) => e.request.url === url);
    expect(entry._resourceType).toBe('websocket');
    const first = flow.messages!.findIndex((m) => m.type === 'send');
    expect(entry._webSocketMessages[first]).toEqual({ type: 'send', time: flow.messages![first].time / 1000, opcode: 1, data: '{"hello":"world"}' });
    expect(entry._webSocketMessages).toHaveLength(flow.messages!.length);
  });

  it("passes a server's refusal of the upgrade on as it was, and records it", async () => {
    const raw = await tunnel(app.proxyPort, `127.0.0.1:${port}`);
    const secure = tls.connect({ socket: raw, host: '127.0.0.1', ca: app.caPem });
    const ws = new WebSocket(`wss://127.0.0.1:${port}/closed`, { createConnection: () => secure });
    const status = await new Promise<number>((resolve) => ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    expect(status).toBe(403);
    const flow = await webSocketFlow(`wss://127.0.0.1:${port}/closed`, (f) => f.closedBy !== undefined, 'the refused upgrade');
    expect(flow).toMatchObject({ kind: 'websocket', status: 403, closedBy: 'server', messages: [] });
    expect(flow.error).toMatch(/refused the upgrade/);
  });
});
