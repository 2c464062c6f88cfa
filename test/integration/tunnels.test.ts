// Tunnels that are not HTTP, through every entrance: an MQTT-like TLS echo on a port that is not 443 and an
// XMPP-like plain stream whose server speaks first arrive byte for byte, each is one `tcp` flow, and an IMEI
// split across two reads is flagged while the connection is still open. Rules: `block` cuts the connection
// before the identifier leaves; `redact` cannot rewrite a stream and blocks, saying why.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCa, LeafMinter } from '../../proxy/certs/authority';
import type { Flow, FlowSummary } from '../../shared/types';
import { tunnel } from '../faults/raw';
import { startTestLeakscope, tempDir, waitFor, type TestLeakscope } from '../helpers/leakscope';

const IMEI = '865123456789012';
const BANNER = "<?xml version='1.0'?><stream:stream from='im.example' id='s1' version='1.0'>";

interface Server {
  port: number;
  received: Buffer[];
  close(): Promise<void>;
}

function listen(server: net.Server, received: Buffer[]): Promise<Server> {
  return new Promise((resolve) => {
    const sockets = new Set<net.Socket>();
    server.on('connection', (s) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    });
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        received,
        close: () => {
          for (const s of sockets) s.destroy();
          return new Promise<void>((done) => server.close(() => done()));
        },
      }),
    );
  });
}

/** MQTT over TLS, as a broker on 8883 would be: echoes every byte, ALPN `mqtt`. */
async function mqttLikeEcho(minter: LeafMinter): Promise<Server> {
  const leaf = await minter.certificateFor('127.0.0.1');
  const received: Buffer[] = [];
  const server = tls.createServer({ key: leaf.key, cert: leaf.cert, ALPNProtocols: ['mqtt'] }, (s) => {
    s.on('data', (c: Buffer) => {
      received.push(c);
      s.write(c);
    });
    s.on('error', () => {});
  });
  return listen(server, received);
}

/** A chat server that speaks first (its stream header), then echoes. */
async function xmppLike(): Promise<Server> {
  const received: Buffer[] = [];
  const server = net.createServer((s) => {
    s.write(BANNER);
    s.on('data', (c: Buffer) => {
      received.push(c);
      s.write(c);
    });
    s.on('error', () => {});
  });
  return listen(server, received);
}

/** Reads from `socket` until `length` bytes arrived (or it closes, or 5 s pass). */
function read(socket: net.Socket | tls.TLSSocket, length: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      resolve(Buffer.concat(chunks));
    };
    const onData = (c: Buffer) => {
      chunks.push(c);
      size += c.length;
      if (size >= length) done();
    };
    const timer = setTimeout(done, 5000);
    socket.on('data', onData);
    socket.once('close', done);
  });
}

/** Two writes with a pause between, so the proxy reads them apart: the IMEI is cut between them. */
async function sendSplit(socket: net.Socket | tls.TLSSocket, message: Buffer, at: number): Promise<void> {
  socket.write(message.subarray(0, at));
  await new Promise((r) => setTimeout(r, 150));
  socket.write(message.subarray(at));
}

function mqttPublish(payload: string): Buffer {
  const topic = Buffer.from('devices/telemetry');
  const body = Buffer.concat([Buffer.from([topic.length >> 8, topic.length & 0xff]), topic, Buffer.from(payload)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

type Entrance = (app: TestLeakscope, port: number) => Promise<net.Socket>;

/** Stands in for the transparent entrance: a listener that hands each connection to `interceptConnection`. */
function transparentEntrance(): { entrance: Entrance; close(): void } {
  const listeners: net.Server[] = [];
  const entrance: Entrance = async (app, port) => {
    const server = net.createServer((socket) =>
      app.interceptConnection(socket, { client: '127.0.0.1', target: { host: '127.0.0.1', port }, mode: 'transparent' }),
    );
    listeners.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    return socket;
  };
  return { entrance, close: () => listeners.forEach((l) => l.close()) };
}

/** The tcp flows stored after flow `after`, oldest first. */
async function tcpFlows(app: TestLeakscope, after: number): Promise<FlowSummary[]> {
  return ((await (await fetch(`${app.uiUrl}api/flows?after=${after}`)).json()) as FlowSummary[]).filter((f) => f.kind === 'tcp');
}

async function flowDetail(app: TestLeakscope, id: number): Promise<Flow> {
  return (await (await fetch(`${app.uiUrl}api/flows/${id}`)).json()) as Flow;
}

describe('tunnels that are not HTTP', () => {
  let app: TestLeakscope;
  let mqtt: Server;
  let xmpp: Server;
  let caPem: string;
  const transparent = transparentEntrance();

  beforeAll(async () => {
    const ca = await ensureCa(path.join(tempDir(), 'ca'));
    const minter = await LeafMinter.create(ca);
    mqtt = await mqttLikeEcho(minter);
    xmpp = await xmppLike();
    const dir = tempDir();
    const identifiersFile = path.join(dir, 'ids.json');
    fs.writeFileSync(identifiersFile, JSON.stringify({ devices: [{ name: 'RedMi 1S', imei: [IMEI] }] }));
    app = await startTestLeakscope({ upstreamCaPem: ca.certPem, identifiersFile });
    caPem = fs.readFileSync(app.caFile, 'utf8');
  });

  afterAll(async () => {
    transparent.close();
    await app?.close();
    await mqtt?.close();
    await xmpp?.close();
  });

  const entrances: [string, Entrance][] = [
    ['CONNECT', (a, port) => tunnel(a.proxyPort, `127.0.0.1:${port}`)],
    ['a transparent-style entrance', transparent.entrance],
  ];

  describe.each(entrances)('through %s', (_name, enter) => {
    it('relays MQTT over TLS on a port that is not 443 byte for byte, flagging the IMEI while the connection is open', async () => {
      const before = app.store.lastId();
      const raw = await enter(app, mqtt.port);
      const phone = tls.connect({ socket: raw, host: '127.0.0.1', ca: caPem, ALPNProtocols: ['mqtt'] });
      await new Promise((r, j) => phone.once('secureConnect', r).once('error', j));
      expect(phone.alpnProtocol).toBe('mqtt');
      const packet = mqttPublish(JSON.stringify({ imei: IMEI, battery: 81 }));
      const split = packet.indexOf(IMEI) + 7;
      const echoed = read(phone, packet.length);
      await sendSplit(phone, packet, split);
      expect((await echoed).equals(packet)).toBe(true);

      const open = await waitFor(async () => (await tcpFlows(app, before)).find((f) => f.findings.length > 0), 5000, 'a flagged tcp flow while open');
      expect(open.findings[0]).toMatchObject({ type: 'imei', where: 'tcp', confidence: 'known' });
      const whileOpen = await flowDetail(app, open.id);
      expect(whileOpen.closedBy).toBeUndefined();
      expect(whileOpen).toMatchObject({ kind: 'tcp', tls: true, method: 'TCP', url: `tls://127.0.0.1:${mqtt.port}` });

      phone.end();
      const closed = await waitFor(async () => {
        const f = await flowDetail(app, open.id);
        return f.closedBy ? f : undefined;
      }, 5000, 'the closed flow');
      expect(closed.closedBy).toBe('client');
      expect(closed.requestBody?.size).toBe(packet.length);
      expect(closed.responseBody?.size).toBe(packet.length);
      expect(Buffer.from(closed.requestBody!.text, closed.requestBody!.encoding === 'base64' ? 'base64' : 'utf8').equals(packet)).toBe(true);
      expect(closed.timings.total).toBeGreaterThan(0);
      expect((await tcpFlows(app, before))).toHaveLength(1);
    });

    it('lets the banner of a server that speaks first through, then relays the phone byte for byte, flagged while open', async () => {
      const before = app.store.lastId();
      const phone = await enter(app, xmpp.port);
      // The phone says nothing until it has the server's greeting.
      expect((await read(phone, BANNER.length)).toString()).toBe(BANNER);
      const stanza = Buffer.from(`<iq type='set' id='r1'><device><imei>${IMEI}</imei></device></iq>`);
      const echoed = read(phone, stanza.length);
      await sendSplit(phone, stanza, stanza.indexOf(IMEI) + 5);
      expect((await echoed).equals(stanza)).toBe(true);
      const open = await waitFor(async () => (await tcpFlows(app, before)).find((f) => f.findings.length > 0), 5000, 'a flagged tcp flow while open');
      expect(open.url).toBe(`tcp://127.0.0.1:${xmpp.port}`);
      expect(open.findings).toEqual([expect.objectContaining({ type: 'imei', where: 'tcp', value: IMEI })]);
      phone.destroy();
      const closed = await waitFor(async () => {
        const f = await flowDetail(app, open.id);
        return f.closedBy ? f : undefined;
      }, 5000, 'the closed flow');
      expect(closed).toMatchObject({ tls: false, closedBy: 'client' });
      expect(closed.responseBody?.text).toBe(BANNER + stanza.toString());
    });
  });
});

describe('rules over raw streams', () => {
  let app: TestLeakscope;
  let xmpp: Server;

  beforeAll(async () => {
    xmpp = await xmppLike();
    const dir = tempDir();
    const identifiersFile = path.join(dir, 'ids.json');
    fs.writeFileSync(identifiersFile, JSON.stringify({ devices: [{ imei: [IMEI], serial_number: ['RM1S0012345'] }] }));
    const rulesFile = path.join(dir, 'rules.json');
    fs.writeFileSync(rulesFile, JSON.stringify({ rules: [{ match: { type: 'imei' }, action: 'block' }, { match: { type: 'serial_number' }, action: 'redact' }] }));
    app = await startTestLeakscope({ identifiersFile, rulesFile });
  });

  afterAll(async () => {
    await app?.close();
    await xmpp?.close();
  });

  it.each([
    ['block', `<imei>${IMEI}</imei>`, IMEI, /blocked by a rule \(imei not allowed to leave\)/],
    ['redact', '<serial>RM1S0012345</serial>', 'RM1S0012345', /redact rule matched serial_number in a raw stream/],
  ])('a %s rule closes the connection before the identifier leaves, and the flow says why', async (_action, text, value, reason) => {
    const before = app.store.lastId();
    xmpp.received.length = 0;
    const phone = await tunnel(app.proxyPort, `127.0.0.1:${xmpp.port}`);
    await read(phone, BANNER.length);
    phone.write('<presence/>');
    await waitFor(() => xmpp.received.length > 0, 3000, 'the harmless stanza');
    const closed = new Promise((r) => phone.once('close', r));
    phone.write(text);
    await closed;
    expect(Buffer.concat(xmpp.received).toString()).toBe('<presence/>');
    expect(Buffer.concat(xmpp.received).toString()).not.toContain(value);
    const flow = await waitFor(async () => {
      const f = (await tcpFlows(app, before))[0];
      return f && (await flowDetail(app, f.id)).closedBy ? flowDetail(app, f.id) : undefined;
    }, 5000, 'the blocked flow');
    expect(flow).toMatchObject({ action: 'blocked', closedBy: 'leakscope' });
    expect(flow.error).toMatch(reason);
  });
});
