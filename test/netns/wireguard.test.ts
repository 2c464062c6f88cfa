// WireGuard mode end to end with the real wireguard-go and nftables: leakscope's CLI in a "lab" namespace, a
// "phone" namespace running its own wireguard-go from /wireguard.conf with no proxy setting at all, an upstream
// in a third namespace reached by name. Every address lives in these namespaces; they go at the end.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Flow, FlowSummary, UdpDroppedEvent } from '../../shared/types';
import type { CliProcess } from '../lifecycle/cli-process';
import { processesWith, until } from './lab';
import { IMEI, makeWorld, UPSTREAM_NAME, type World } from './world';

const PORT = 40_000 + Math.floor(Math.random() * 20_000);
const IFACE = `leakscope${PORT}`;
let world: World;
let cli: CliProcess;

async function flows(): Promise<FlowSummary[]> {
  return world.api<FlowSummary[]>(cli, '/api/flows?limit=100');
}

async function leftBehind(): Promise<string[]> {
  const left: string[] = [];
  const links = await world.lab.exec(world.machine, 'ip', ['-br', 'link']);
  if (links.includes('leakscope')) left.push(`interface: ${links}`);
  const tables = await world.lab.exec(world.machine, 'nft', ['list', 'tables']);
  if (tables.trim()) left.push(`nft: ${tables}`);
  if (processesWith(`wireguard-go -f ${IFACE}`).length) left.push('wireguard-go process');
  if (fs.existsSync(`/var/run/wireguard/${IFACE}.sock`)) left.push('wireguard-go control socket');
  return left;
}

beforeAll(async () => {
  world = await makeWorld();
  cli = await world.leakscope(['--mode', 'wireguard', '--wireguard-port', String(PORT), '--wireguard-endpoint', world.machineAddress]);
  const conf = await world.lab.exec(world.machine, 'curl', ['-sS', '--fail', '-H', 'Sec-Fetch-Site: same-origin', `${cli.uiUrl}wireguard.conf`]);
  await world.connectPhone(conf);
  fs.writeFileSync(path.join(world.dir, 'leakscope-ca.pem'), await world.lab.exec(world.machine, 'curl', ['-sS', `${cli.uiUrl}ca.pem`]));
}, 90_000);

afterAll(async () => {
  cli?.child.kill('SIGKILL');
  await world?.lab.cleanup();
});

describe('WireGuard mode', () => {
  it('serves the phone a config that sends everything into the tunnel, with leakscope as its DNS', async () => {
    const conf = await world.lab.exec(world.machine, 'curl', ['-sS', '--fail', '-H', 'Sec-Fetch-Site: same-origin', `${cli.uiUrl}wireguard.conf`]);
    expect(conf).toMatch(/^AllowedIPs = 0\.0\.0\.0\/0, ::\/0$/m);
    expect(conf).toMatch(/^DNS = 10\.73\.0\.1$/m);
    expect(conf).toContain(`Endpoint = ${world.machineAddress}:${PORT}`);
    const keys = path.join(world.dir, 'data', 'wireguard', 'keys.json');
    expect(fs.statSync(keys).mode & 0o777).toBe(0o600);
    expect(cli.output()).toContain('wireguard peer       phone (10.73.0.2)');
    const setup = await world.lab.exec(world.machine, 'curl', ['-sS', `${cli.uiUrl}setup`]);
    expect(setup).toContain('alt="WireGuard QR code for phone"');
  });

  it("resolves names through leakscope's DNS (the phone has no other way to know the upstream)", async () => {
    const answer = await world.onPhone('getent', ['hosts', UPSTREAM_NAME]);
    expect(answer).toContain(world.upstreamAddress);
  });

  it('intercepts and flags an HTTPS request carrying the IMEI from a client with no proxy setting', async () => {
    const caFile = path.join(world.dir, 'leakscope-ca.pem');
    const body = await world.onPhone('curl', ['-sS', '--fail', '--noproxy', '*', '--cacert', caFile, `https://${UPSTREAM_NAME}/register?imei=${IMEI}`]);
    expect(body).toBe('upstream says hello\n');
    expect(world.upstreamOutput()).toContain(`"url":"/register?imei=${IMEI}"`);
    const flow = await until('the flow', async () => (await flows()).find((f) => f.url.includes('/register')));
    // The name the app addressed (SNI and Host) is in the URL; `host` is the address really dialled.
    expect(new URL(flow.url).hostname).toBe(UPSTREAM_NAME);
    expect(flow.client).toBe('10.73.0.2');
    expect(flow.device).toBe('Tunnel phone');
    expect(flow.findings.map((f) => [f.type, f.value])).toContainEqual(['imei', IMEI]);
    expect(flow.mode).toBe('wireguard');
    const full = await world.api<Flow>(cli, `/api/flows/${flow.id}`);
    expect(full.mode).toBe('wireguard');
    expect(full.destination?.ip).toBe(world.upstreamAddress);
  });

  it('refuses QUIC (UDP 443) at once, so apps fall back to TCP', async () => {
    expect((await world.phoneClient(['udp', world.upstreamAddress, '443'])).trim()).toBe('refused');
  });

  it('drops other UDP and reports it as an event, with the name the phone resolved', async () => {
    await world.phoneClient(['udp', UPSTREAM_NAME, '9999']);
    const events = await until('the udp-dropped event', async () => {
      const list = await world.api<UdpDroppedEvent[]>(cli, '/api/udp-dropped');
      return list.find((e) => e.port === 9999);
    });
    expect(events).toMatchObject({ client: '10.73.0.2', ip: world.upstreamAddress, host: UPSTREAM_NAME });
  });

  it('relays a raw TCP stream byte for byte and records it, the IMEI in it flagged', async () => {
    const text = `HELLO device=${IMEI}\n`;
    expect(await world.phoneClient(['tcp', UPSTREAM_NAME, '5222', text])).toBe(`OK ${text.length}\n`);
    expect(world.upstreamOutput()).toContain(JSON.stringify({ kind: 'tcp', data: text }));
    const flow = await until('the tcp flow', async () => (await flows()).find((f) => f.kind === 'tcp' && f.url.includes(':5222')));
    expect(flow.url).toBe(`tcp://${UPSTREAM_NAME}:5222`);
    expect(flow.findings.some((f) => f.type === 'imei' && f.where === 'tcp')).toBe(true);
  });

  it('leaves no interface, nft table or process after stop', async () => {
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    expect(await leftBehind()).toEqual([]);
  });

  it('after a crash (kill -9), the next start removes the stale table and comes up', { timeout: 120_000 }, async () => {
    cli = await world.leakscope(['--mode', 'wireguard', '--wireguard-port', String(PORT), '--wireguard-endpoint', world.machineAddress]);
    cli.child.kill('SIGKILL');
    await cli.exited;
    expect(await world.lab.exec(world.machine, 'nft', ['list', 'tables'])).toContain('inet leakscope');
    cli = await world.leakscope(['--mode', 'wireguard', '--wireguard-port', String(PORT), '--wireguard-endpoint', world.machineAddress]);
    expect(await world.onPhone('getent', ['hosts', UPSTREAM_NAME])).toContain(world.upstreamAddress);
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    expect(await leftBehind()).toEqual([]);
  });
});
