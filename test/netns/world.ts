// The three namespaces of the WireGuard and transparent tests: a phone, the lab machine leakscope runs on, and
// an upstream reached from the lab by name (the lab's /etc/hosts, through `ip netns exec`'s /etc/netns files).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startCli, type CliProcess } from '../lifecycle/cli-process';
import { Lab, until } from './lab';

export const UPSTREAM_NAME = 'api.upstream.test';
export const IMEI = '865123456789018';
const HERE = path.dirname(new URL(import.meta.url).pathname);

export interface World {
  lab: Lab;
  phone: string;
  machine: string;
  upstream: string;
  /** the addresses: the lab machine as the phone sees it, the upstream */
  machineAddress: string;
  upstreamAddress: string;
  dir: string;
  caFile: string;
  upstreamOutput: () => string;
  /** starts the real CLI in the lab machine's namespace with these options */
  leakscope(extra: string[]): Promise<CliProcess>;
  /** a GET to the dashboard inside the lab machine's namespace, parsed as JSON */
  api<T>(cli: CliProcess, route: string): Promise<T>;
  /** a command in the phone's namespace */
  onPhone(program: string, args: string[], timeoutMs?: number): Promise<string>;
  /** the phone's own client script (test/netns/phone-client.ts) */
  phoneClient(args: string[]): Promise<string>;
  /** connects the phone to leakscope with the WireGuard config leakscope serves, as the WireGuard app would */
  connectPhone(conf: string): Promise<void>;
}

/** The phone's own wireguard-go, configured from `conf`; its default route goes into the tunnel. */
async function connectPhone(lab: Lab, phone: string, dir: string, conf: string): Promise<void> {
  const iface = `lsph${lab.suffix}`;
  lab.start(phone, 'wireguard-go', ['-f', iface], { WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD: '1' });
  await until('the phone tunnel', () => fs.existsSync(`/var/run/wireguard/${iface}.sock`) || undefined);
  // `wg setconf` takes the [Interface] key and the [Peer]; Address and DNS are what wg-quick would apply
  const address = /^Address = (\S+)$/m.exec(conf)![1];
  const dns = /^DNS = (\S+)$/m.exec(conf)![1];
  const file = path.join(dir, 'phone.conf');
  fs.writeFileSync(file, conf.replace(/^(Address|DNS) = .*\n/gm, ''), { mode: 0o600 });
  await lab.exec(phone, 'wg', ['setconf', iface, file]);
  await lab.exec(phone, 'ip', ['address', 'add', address, 'dev', iface]);
  await lab.exec(phone, 'ip', ['link', 'set', iface, 'up']);
  await lab.exec(phone, 'ip', ['route', 'add', 'default', 'dev', iface]);
  lab.etcFile(phone, 'resolv.conf', `nameserver ${dns}\n`);
}

export async function makeWorld(): Promise<World> {
  const lab = new Lab();
  const phone = await lab.namespace('phone');
  const machine = await lab.namespace('lab');
  const upstream = await lab.namespace('up');
  const [machineAddress, upstreamAddress] = ['10.99.1.1', '10.99.2.2'];
  await lab.link(machine, `${machineAddress}/24`, phone, '10.99.1.2/24');
  await lab.link(machine, '10.99.2.1/24', upstream, `${upstreamAddress}/24`);
  lab.etcFile(machine, 'hosts', `127.0.0.1 localhost\n${upstreamAddress} ${UPSTREAM_NAME}\n`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leakscope-netns-'));
  const caFile = path.join(dir, 'upstream-ca.pem');
  const up = lab.start(upstream, process.execPath, ['--import', 'tsx', path.join(HERE, 'upstream-main.ts'), path.join(dir, 'upstream-ca'), caFile, UPSTREAM_NAME]);
  await until('the upstream', () => (up.output().includes('READY') ? true : undefined), 20_000).catch((err: Error) => {
    throw new Error(`${err.message}\n${up.output()}`);
  });
  const identifiers = path.join(dir, 'identifiers.json');
  fs.writeFileSync(identifiers, JSON.stringify({ devices: [{ name: 'Tunnel phone', client: '10.73.0.2', imei: [IMEI] }] }));
  return {
    lab,
    phone,
    machine,
    upstream,
    machineAddress,
    upstreamAddress,
    dir,
    caFile,
    upstreamOutput: up.output,
    leakscope: (extra) => startCli(path.join(dir, 'data'), ['--proxy-host', '0.0.0.0', '--upstream-ca', caFile, '--identifiers', identifiers, ...extra], machine),
    api: async <T>(cli: CliProcess, route: string) => JSON.parse(await lab.exec(machine, 'curl', ['-sS', '--fail', `${cli.uiUrl}${route.replace(/^\//, '')}`])) as T,
    onPhone: (program, args, timeoutMs) => lab.exec(phone, program, args, undefined, timeoutMs),
    connectPhone: (conf) => connectPhone(lab, phone, dir, conf),
    phoneClient: (args) => lab.exec(phone, process.execPath, ['--import', 'tsx', path.join(HERE, 'phone-client.ts'), ...args]),
  };
}
