// WireGuard mode's throughput against the explicit proxy, in the same run, on the same leakscope: a phone
// namespace sends HTTPS requests to an upstream namespace, once through leakscope's explicit proxy (over the
// link) and once with no proxy setting through the WireGuard tunnel (wireguard-go on both ends, nft redirect,
// the transparent entrance). mitmdump's WireGuard mode is measured where the installed mitmdump has one.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeWorld, UPSTREAM_NAME } from '../test/netns/world';
import type { LoadResult } from './load';
import { fiftyIdentifiers } from './processes';

const HERE = path.dirname(fileURLToPath(import.meta.url));

export interface WireguardBench {
  explicit: LoadResult;
  wireguard: LoadResult;
  /** why mitmdump's WireGuard mode was not measured */
  mitmdumpNote: string;
}

/** Debian's mitmproxy (8.1) predates WireGuard mode (mitmproxy 9.0): ask it, and say what it answered. */
function mitmdumpWireguardNote(): string {
  const version = spawnSync('mitmdump', ['--version'], { encoding: 'utf8' });
  if (version.status !== 0) return 'mitmdump is not installed (Debian package mitmproxy): skipped';
  const name = /Mitmproxy:\s*(\S+)/.exec(version.stdout)?.[1] ?? '(unknown version)';
  const confdir = fs.mkdtempSync(path.join(os.tmpdir(), 'leakscope-bench-mitmdump-'));
  try {
    const probe = spawnSync('mitmdump', ['--mode', 'wireguard', '--listen-host', '127.0.0.1', '--listen-port', '0', '--set', `confdir=${confdir}`], { encoding: 'utf8', timeout: 5_000 });
    const refusal = /Invalid mode specification.*/.exec(`${probe.stdout}${probe.stderr}`)?.[0];
    return refusal
      ? `mitmdump ${name} says "${refusal}" (WireGuard mode came in mitmproxy 9.0): skipped`
      : `mitmdump ${name} has a WireGuard mode, which this bench does not drive: skipped`;
  } finally {
    fs.rmSync(confdir, { recursive: true, force: true });
  }
}

export async function benchWireguard(connections: number, seconds: number): Promise<WireguardBench> {
  const world = await makeWorld();
  try {
    const port = 40_000 + Math.floor(Math.random() * 20_000);
    const identifiers = path.join(world.dir, 'bench-identifiers.json');
    fiftyIdentifiers(identifiers);
    const cli = await world.leakscope(['--proxy-port', '8080', '--identifiers', identifiers, '--mode', 'wireguard', '--wireguard-port', String(port), '--wireguard-endpoint', world.machineAddress]);
    try {
      await world.connectPhone(await world.lab.exec(world.machine, 'curl', ['-sS', '--fail', `${cli.uiUrl}wireguard.conf`]));
      const caFile = path.join(world.dir, 'leakscope-ca.pem');
      fs.writeFileSync(caFile, await world.lab.exec(world.machine, 'curl', ['-sS', `${cli.uiUrl}ca.pem`]));
      const load = async (proxy: string) =>
        JSON.parse(await world.onPhone(process.execPath, ['--import', 'tsx', path.join(HERE, 'netns-load.ts'), `https://${UPSTREAM_NAME}/`, caFile, proxy, String(connections), String(seconds)], (seconds + 60) * 1000)) as LoadResult;
      const explicit = await load(`${world.machineAddress}:${cli.proxyPort}`);
      const wireguard = await load('-');
      return { explicit, wireguard, mitmdumpNote: mitmdumpWireguardNote() };
    } finally {
      cli.child.kill('SIGTERM');
      await cli.exited;
    }
  } finally {
    await world.lab.cleanup();
  }
}
