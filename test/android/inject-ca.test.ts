// The device-side script, run for real: under dash, as root, in a private mount namespace laid out like
// Android's, with stand-in zygote, zygote64 and app processes in mount namespaces of their own. What this cannot
// show: Android's SELinux labels, toybox's and mksh's quirks, and real zygote/app processes; no Android device
// or emulator runs on these machines.
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCa } from '../../proxy/certs/authority';
import { INJECT_CA_SCRIPT } from '../../proxy/android/device-files';
import { systemStoreName } from '../../proxy/android/subject-hash';
import { tempDir } from '../helpers/leakscope';

const HARNESS = path.resolve(__dirname, 'fake-android-root.sh');
const APEX = 'apex/com.android.conscrypt/cacerts';
const SYSTEM = 'system/etc/security/cacerts';

function opensslHashName(pemFile: string): string {
  return `${execFileSync('openssl', ['x509', '-subject_hash_old', '-noout', '-in', pemFile], { encoding: 'utf8' }).trim()}.0`;
}

/** A few self-signed CAs standing in for the ones Android ships, named as Android names them. */
function shippedCerts(dir: string): Map<string, string> {
  const certs = new Map<string, string>();
  for (const cn of ['Stand-in Root A', 'Stand-in Root B', 'Stand-in Root C']) {
    const file = path.join(dir, `${cn.replace(/\W/g, '')}.pem`);
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', '/dev/null', '-subj', `/CN=${cn}/O=Stand-in`, '-days', '30', '-out', file], { stdio: 'ignore' });
    certs.set(opensslHashName(file), fs.readFileSync(file, 'utf8'));
  }
  return certs;
}

function mountsUnder(dir: string): string[] {
  return fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').filter((line) => line.split(' ')[1]?.startsWith(dir));
}

interface Run {
  exit: number;
  output: string;
  lists: Map<string, string[]>;
  /** per process: how many leakscope tmpfs mounts its namespace has */
  mounts: Map<string, number>;
}

function runHarness(root: string, certName: string, runs = 1): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile('unshare', ['--mount', '--pid', '--fork', '--propagation', 'private', 'bash', HARNESS, root, certName, String(runs)], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`harness failed: ${err.message}\n${stdout}\n${stderr}`));
      const lists = new Map<string, string[]>();
      const mounts = new Map<string, number>();
      for (const line of stdout.split('\n')) {
        const m = /^LIST (\S+) ?(.*)$/.exec(line);
        if (m) lists.set(m[1], m[2].trim().split(/\s+/).filter(Boolean));
        const n = /^MOUNTS (\S+) (\d+)$/.exec(line);
        if (n) mounts.set(n[1], Number(n[2]));
      }
      const exits = [...stdout.matchAll(/^EXIT (\d+)$/gm)].map((e) => Number(e[1]));
      resolve({ exit: exits.length ? Math.max(...exits) : -1, output: stdout + stderr, lists, mounts });
    });
  });
}

describe('inject-ca.sh in a fake Android root', () => {
  const roots: string[] = [];
  let caPem: string;
  let caName: string;
  let shipped: Map<string, string>;

  beforeAll(async () => {
    const work = tempDir();
    roots.push(work);
    caPem = (await ensureCa(path.join(work, 'ca'))).certPem;
    const caFile = path.join(work, 'ca.pem');
    fs.writeFileSync(caFile, caPem);
    caName = opensslHashName(caFile);
    shipped = shippedCerts(work);
  });

  afterAll(() => {
    for (const root of roots) {
      // Every mount lived in the harness's private namespace; if one leaked here, removing the tree would reach
      // through it (into /usr): refuse and say so rather than delete.
      const leaked = mountsUnder(root);
      if (leaked.length) throw new Error(`mounts leaked out of the test namespace: ${leaked.join('; ')}`);
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  function androidRoot(stores: string[]): string {
    const root = tempDir('leakscope-android-root-');
    roots.push(root);
    for (const store of stores) {
      fs.mkdirSync(path.join(root, store), { recursive: true });
      for (const [name, pem] of shipped) fs.writeFileSync(path.join(root, store, name), pem, { mode: 0o644 });
    }
    const pushDir = path.join(root, 'data/local/tmp/leakscope');
    fs.mkdirSync(pushDir, { recursive: true });
    fs.writeFileSync(path.join(pushDir, 'inject-ca.sh'), INJECT_CA_SCRIPT);
    fs.writeFileSync(path.join(pushDir, systemStoreName(caPem)), caPem);
    return root;
  }

  it('names the CA exactly as openssl x509 -subject_hash_old does', () => {
    expect(systemStoreName(caPem)).toBe(caName);
    for (const [name, pem] of shipped) expect(systemStoreName(pem)).toBe(name);
  });

  it('Android 14+: the CA appears in this shell, zygote, zygote64 and the running app, next to the shipped certificates', async () => {
    const root = androidRoot([APEX, SYSTEM]);
    const run = await runHarness(root, caName);
    expect(run.exit, run.output).toBe(0);
    expect(run.output).toMatch(new RegExp(`leakscope-ca: ok store=/${APEX} name=${caName} certificates=4 namespaces=4`));
    expect(run.lists.get('before-zygote64')).not.toContain(caName);
    const expected = [...shipped.keys(), caName].sort();
    for (const who of ['self', 'zygote64', 'zygote', 'app']) expect(run.lists.get(who)?.sort(), who).toEqual(expected);
    // Processes that are neither a zygote nor an app keep the store as it was.
    expect(run.lists.get('bystander')?.sort()).toEqual([...shipped.keys()].sort());
    // The files under the tmpfs were never written.
    expect(fs.readdirSync(path.join(root, APEX)).sort()).toEqual([...shipped.keys()].sort());
    expect(fs.readFileSync(path.join(root, 'data/local/tmp/leakscope/store', caName), 'utf8')).toBe(caPem);
  });

  it('Android 13 and older: a tmpfs over /system/etc/security/cacerts, in the same namespaces, holds the shipped certificates and the CA', async () => {
    const root = androidRoot([SYSTEM]);
    const run = await runHarness(root, caName);
    expect(run.exit, run.output).toBe(0);
    expect(run.output).toContain(`leakscope-ca: ok store=/${SYSTEM} name=${caName} certificates=4 namespaces=4`);
    const expected = [...shipped.keys(), caName].sort();
    for (const who of ['self', 'zygote64', 'zygote', 'app']) expect(run.lists.get(who)?.sort(), who).toEqual(expected);
    expect(run.lists.get('bystander')?.sort()).toEqual([...shipped.keys()].sort());
    expect(fs.readdirSync(path.join(root, SYSTEM)).sort()).toEqual([...shipped.keys()].sort());
  });

  it('run twice, it replaces its own tmpfs instead of stacking a second one', async () => {
    const root = androidRoot([APEX]);
    const run = await runHarness(root, caName, 2);
    expect(run.exit, run.output).toBe(0);
    expect(run.output.match(/leakscope-ca: ok /g)).toHaveLength(2);
    for (const who of ['self', 'zygote64', 'zygote', 'app']) {
      expect(run.lists.get(who)?.sort(), who).toEqual([...shipped.keys(), caName].sort());
      expect(run.mounts.get(who), who).toBe(1);
    }
    expect(run.mounts.get('bystander')).toBe(0);
  });

  it('refuses a certificate file not named <subject_hash_old>.0', async () => {
    const root = androidRoot([APEX]);
    fs.renameSync(path.join(root, 'data/local/tmp/leakscope', caName), path.join(root, 'data/local/tmp/leakscope/ca;reboot.0'));
    const run = await runHarness(root, 'ca;reboot.0');
    expect(run.exit).toBe(1);
    expect(run.output).toContain('must be named <subject_hash_old>.0');
    expect(run.lists.get('zygote64')?.sort()).toEqual([...shipped.keys()].sort());
  });
});
