// Rules over WebSocket messages, end to end through a real TLS tunnel: a blocked message never reaches the
// server, a redacted one arrives with the fake, and every message keeps its place in the order the phone sent.
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Flow, FlowSummary } from '../../shared/types';
import { tunnel } from '../faults/raw';
import { startTestLeakscope, tempDir, waitFor, type TestLeakscope } from '../helpers/leakscope';
import { startUpstream, type Upstream } from '../helpers/upstream';

const IMEI = '865123456789012';
const PHONE = '+8613800138000';

describe('rules over WebSocket messages', () => {
  let upstream: Upstream;
  let app: TestLeakscope;

  beforeAll(async () => {
    upstream = await startUpstream({ webSocket: true });
    const dir = tempDir();
    const identifiersFile = path.join(dir, 'ids.json');
    fs.writeFileSync(identifiersFile, JSON.stringify({ devices: [{ name: 'RedMi 1S', imei: [IMEI], phone_number: [PHONE] }] }));
    const rulesFile = path.join(dir, 'rules.json');
    const rules = [
      { match: { type: 'imei' }, action: 'block' },
      { match: { type: 'phone_number' }, action: 'redact' },
    ];
    fs.writeFileSync(rulesFile, JSON.stringify({ rules }));
    app = await startTestLeakscope({ upstreamCaPem: upstream.caPem, identifiersFile, rulesFile });
  });

  afterAll(async () => {
    await app?.close();
    await upstream?.close();
  });

  /** A WebSocket client whose TLS runs inside a CONNECT tunnel through leakscope, trusting its CA. */
  async function phoneSocket(): Promise<WebSocket> {
    const { port } = new URL(upstream.url);
    const socket = await tunnel(app.proxyPort, `127.0.0.1:${port}`);
    const secure = tls.connect({ socket, host: '127.0.0.1', ca: fs.readFileSync(app.caFile) });
    const ws = new WebSocket(`${upstream.url.replace('https:', 'wss:')}/socket`, { createConnection: () => secure });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    return ws;
  }

  it('drops a blocked message, redacts another, keeps the order, and records both', async () => {
    const ws = await phoneSocket();
    const sent = [
      { seq: 1, hello: 'world' },
      { seq: 2, device: { imei: IMEI } },
      { seq: 3, msisdn: PHONE, note: 'redact me' },
      { seq: 4, bye: true },
    ];
    try {
      for (const message of sent) ws.send(JSON.stringify(message));
      // The last message arrives after every one before it that was passed on: then the server saw all it ever will.
      await waitFor(() => upstream.messages.some((m) => m.includes('"seq":4')) || undefined, 5000, 'the last message');
    } finally {
      ws.close();
    }

    const arrived = upstream.messages.map((m) => JSON.parse(m) as { seq: number; msisdn?: string });
    expect(arrived.map((m) => m.seq)).toEqual([1, 3, 4]);
    expect(upstream.messages.join('\n')).not.toContain(IMEI);
    const fake = arrived[1].msisdn!;
    expect(fake).toMatch(/^\+86\d{11}$/);
    expect(fake).not.toBe(PHONE);

    // One flow for the connection, every message listed in order with what the rules did to it.
    const flow = await waitFor(async () => {
      const all = (await (await fetch(`${app.uiUrl}api/flows?flagged=1`)).json()) as FlowSummary[];
      const summary = all.find((f) => f.kind === 'websocket');
      const detail = summary && ((await (await fetch(`${app.uiUrl}api/flows/${summary.id}`)).json()) as Flow);
      return detail?.closedBy ? detail : undefined;
    }, 5000, 'the WebSocket flow, closed');
    const sentByPhone = flow.messages!.filter((m) => m.type === 'send');
    expect(sentByPhone.map((m) => JSON.parse(m.data).seq)).toEqual([1, 2, 3, 4]);
    expect(sentByPhone.map((m) => m.action)).toEqual([undefined, 'blocked', 'redacted', undefined]);
    expect(sentByPhone[2].sentData).toContain(fake);
    expect(flow.action).toBe('blocked');
    const blockedAt = flow.messages!.indexOf(sentByPhone[1]);
    const redactedAt = flow.messages!.indexOf(sentByPhone[2]);
    expect(flow.findings).toContainEqual(expect.objectContaining({ type: 'imei', value: IMEI, where: 'websocket', message: blockedAt }));
    expect(flow.findings).toContainEqual(expect.objectContaining({ type: 'phone_number', where: 'websocket', message: redactedAt }));
  });
});
