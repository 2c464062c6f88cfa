// Transparent mode end to end: the lab machine is the phone's router, and a redirect rule of the test's own (as
// a tester's or a router's would be) sends the phone's TCP to leakscope's transparent listener, which finds
// each connection's original destination in conntrack. Every address lives in namespaces made here.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Flow, FlowSummary } from '../../shared/types';
import type { CliProcess } from '../lifecycle/cli-process';
import { until } from './lab';
import { IMEI, makeWorld, UPSTREAM_NAME, type World } from './world';

const TRANSPARENT_PORT = 8082;
let world: World;
let cli: CliProcess;
let table: string;

beforeAll(async () => {
  world = await makeWorld();
  const { lab, phone, machine, machineAddress, upstreamAddress } = world;
  await lab.exec(phone, 'ip', ['route', 'add', 'default', 'via', machineAddress]);
  // The phone knows the upstream's name itself (transparent mode has no DNS of its own)
  lab.etcFile(phone, 'hosts', `127.0.0.1 localhost\n${upstreamAddress} ${UPSTREAM_NAME}\n`);
  table = `lstest${lab.suffix}`;
  await lab.exec(machine, 'nft', ['-f', '-'], `table ip ${table} {
  chain redirect_phone {
    type nat hook prerouting priority dstnat; policy accept;
    ip saddr 10.99.1.2 meta l4proto tcp redirect to :${TRANSPARENT_PORT}
  }
}
`);
  cli = await world.leakscope(['--mode', 'transparent', '--transparent-port', String(TRANSPARENT_PORT)]);
  fs.writeFileSync(path.join(world.dir, 'leakscope-ca.pem'), await lab.exec(machine, 'curl', ['-sS', `${cli.uiUrl}ca.pem`]));
}, 90_000);

afterAll(async () => {
  cli?.child.kill('SIGKILL');
  await world?.lab.cleanup();
});

async function flows(): Promise<FlowSummary[]> {
  return world.api<FlowSummary[]>(cli, '/api/flows?limit=100');
}

describe('transparent mode', () => {
  it('intercepts and flags a redirected HTTPS request, named by its SNI and sent to its original destination', async () => {
    const caFile = path.join(world.dir, 'leakscope-ca.pem');
    const body = await world.onPhone('curl', ['-sS', '--fail', '--noproxy', '*', '--cacert', caFile, `https://${UPSTREAM_NAME}/register?imei=${IMEI}`]);
    expect(body).toBe('upstream says hello\n');
    const flow = await until('the flow', async () => (await flows()).find((f) => f.url.includes('/register')));
    expect(flow.host).toBe(UPSTREAM_NAME);
    expect(flow.client).toBe('10.99.1.2');
    expect(flow.findings.map((f) => [f.type, f.value])).toContainEqual(['imei', IMEI]);
    const full = await world.api<Flow>(cli, `/api/flows/${flow.id}`);
    expect(full.mode).toBe('transparent');
    expect(full.destination?.ip).toBe(world.upstreamAddress);
  });

  it('relays a raw TCP stream on another port to its original destination and records it', async () => {
    const text = `HELLO device=${IMEI}\n`;
    expect(await world.phoneClient(['tcp', world.upstreamAddress, '5222', text])).toBe(`OK ${text.length}\n`);
    const flow = await until('the tcp flow', async () => (await flows()).find((f) => f.kind === 'tcp' && f.url.includes(':5222')));
    // no SNI, no Host and no DNS log: the address is the name
    expect(flow.url).toBe(`tcp://${world.upstreamAddress}:5222`);
    expect(flow.findings.some((f) => f.type === 'imei' && f.where === 'tcp')).toBe(true);
  });

  it('closes a connection whose original destination is the listener itself (a loop), and keeps serving', async () => {
    const before = (await flows()).length;
    const answer = await world.phoneClient(['tcp', world.machineAddress, String(TRANSPARENT_PORT), 'loop?']).catch((err: Error) => err.message);
    expect(answer).not.toContain('OK');
    expect((await flows()).length).toBe(before);
    const body = await world.onPhone('curl', ['-sS', '--fail', '--cacert', path.join(world.dir, 'leakscope-ca.pem'), `https://${UPSTREAM_NAME}/after-loop`]);
    expect(body).toBe('upstream says hello\n');
  });

  it('stops cleanly and leaves only the rule the test made', async () => {
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    const tables = await world.lab.exec(world.machine, 'nft', ['list', 'tables']);
    expect(tables.trim()).toBe(`table ip ${table}`);
  });
});
