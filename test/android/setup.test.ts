// The setup and undo logic, driven through the AndroidDevice interface by a scripted stand-in (scripted-device.ts):
// the sequence of adb calls leakscope makes, and the state they leave. Not a real device: what Android does with
// these commands is not tested here (nothing in this repository was tried on a device).
import path from 'node:path';
import { describe, expect, it, beforeAll } from 'vitest';
import { addFoundIdentifiers, describeDevice } from '../../shared/android';
import { parseIdentifiers } from '../../shared/identifiers';
import { ensureCa } from '../../proxy/certs/authority';
import { probeDevice } from '../../proxy/android/device';
import { chooseDevice, listAndroidDevices } from '../../proxy/android/devices';
import type { AdbServer } from '../../proxy/android/adb';
import { UsageError } from '../../proxy/cli/errors';
import { parcelString, readDeviceIdentifiers } from '../../proxy/android/identifiers';
import { CLEAR_PROXY, planFor, setupDevice, undoDevice } from '../../proxy/android/setup';
import { systemStoreName } from '../../proxy/android/subject-hash';
import { tempDir } from '../helpers/leakscope';
import { parcelReply, ScriptedDevice, type ScriptedDeviceOptions } from './scripted-device';

const PORT = 18080;
let caPem: string;

beforeAll(async () => {
  caPem = (await ensureCa(path.join(tempDir(), 'ca'))).certPem;
});

async function setUp(o: ScriptedDeviceOptions, extra: { systemCa?: boolean; lanAddress?: string; signal?: AbortSignal } = {}) {
  const device = new ScriptedDevice(o);
  const facts = await probeDevice(device);
  const lines: string[] = [];
  const run = setupDevice(device, facts, { proxyPort: PORT, systemCa: extra.systemCa ?? true, lanAddress: extra.lanAddress, caPem, signal: extra.signal, say: (l) => lines.push(l) });
  return { device, facts, run, lines };
}

/** What undo must leave: no proxy key of any kind, no reverse, and `:0` written before the keys went. */
function expectUndone(device: ScriptedDevice) {
  expect([...device.settings.keys()].filter((k) => /proxy/.test(k))).toEqual([]);
  expect(device.reverses.size).toBe(0);
  const clear = device.calls.lastIndexOf(CLEAR_PROXY);
  expect(clear).toBeGreaterThanOrEqual(0);
  expect(device.calls.indexOf(`reverse --remove tcp:${PORT}`, clear)).toBeGreaterThan(clear);
}

describe('setup over adb (scripted device)', () => {
  it('rooted via su: the CA script as root, then the reverse, then the proxy setting, read back', async () => {
    const { device, facts, run } = await setUp({ root: 'su' });
    expect(facts.root).toBe('su');
    const done = await run;
    expect(done).toMatchObject({ proxy: `127.0.0.1:${PORT}`, reverse: true, ca: { kind: 'system', name: systemStoreName(caPem), store: '/apex/com.android.conscrypt/cacerts' } });
    const name = systemStoreName(caPem);
    expect(device.files.get(`/data/local/tmp/leakscope/${name}`)?.contents.toString()).toBe(caPem);
    const script = device.calls.indexOf(`su -c 'sh /data/local/tmp/leakscope/inject-ca.sh /data/local/tmp/leakscope/${name}'; echo leakscope-exit:$?`);
    const reverse = device.calls.indexOf(`reverse tcp:${PORT}`);
    const put = device.calls.indexOf(`settings put global http_proxy 127.0.0.1:${PORT}`);
    expect(script).toBeGreaterThan(0);
    expect(reverse).toBeGreaterThan(script);
    expect(put).toBeGreaterThan(reverse);
    expect(device.calls[put + 1]).toBe('settings get global http_proxy');
    expect(device.settings.get('http_proxy')).toBe(`127.0.0.1:${PORT}`);
  });

  it('undo clears :0 and every proxy key and removes the reverse', async () => {
    const { device, run } = await setUp({ root: 'su' });
    await run;
    device.settings.set('global_http_proxy_host', '127.0.0.1'); // set by Android alongside on some versions
    device.settings.set('global_http_proxy_port', String(PORT));
    await undoDevice(device, PORT);
    expectUndone(device);
  });

  it('a proxy setting that does not read back: the error goes on and the reverse and setting are undone', async () => {
    const { device, run } = await setUp({ root: 'su', proxyReadsBack: '10.0.0.9:3128' });
    await expect(run).rejects.toThrow(/reads back as "10.0.0.9:3128", not 127.0.0.1:18080/);
    expectUndone(device);
  });

  it('a failing adb reverse: undone before the error goes on', async () => {
    const { device, run } = await setUp({ root: 'none', failOn: /^reverse$/ });
    await expect(run).rejects.toThrow(/scripted failure at reverse/);
    expectUndone(device);
    expect(device.calls.some((c) => c.startsWith('settings put global http_proxy 127'))).toBe(false);
  });

  it('Ctrl-C during the setup: it stops before the proxy setting and undoes the reverse', async () => {
    const controller = new AbortController();
    const { device, run, lines } = await setUp({ root: 'su' }, { signal: controller.signal });
    const original = device.reverse.bind(device);
    device.reverse = async (port) => {
      await original(port);
      controller.abort(new Error('stopped (Ctrl-C)'));
    };
    await expect(run).rejects.toThrow('stopped (Ctrl-C)');
    expect(lines.some((l) => l.includes('adb reverse'))).toBe(true);
    expect(device.calls.some((c) => c.startsWith('settings put global http_proxy 127'))).toBe(false);
    expectUndone(device);
  });

  it('undo tries both halves: a failing proxy clear still removes the reverse, and says what failed', async () => {
    const device = new ScriptedDevice({ failOn: /settings put global http_proxy :0/ });
    device.reverses.add(PORT);
    device.settings.set('http_proxy', `127.0.0.1:${PORT}`);
    await expect(undoDevice(device, PORT)).rejects.toThrow(/clearing the proxy setting: scripted failure/);
    expect(device.reverses.size).toBe(0);
  });

  it('--wifi: the LAN address, and no reverse', async () => {
    const { device, run } = await setUp({ root: 'su' }, { lanAddress: '192.168.1.20' });
    expect(await run).toMatchObject({ proxy: `192.168.1.20:${PORT}`, reverse: false });
    expect(device.calls.some((c) => c.startsWith('reverse tcp'))).toBe(false);
  });

  it('not rooted, Android 14: the CA (DER) to Downloads, Settings opened, the taps spelled out', async () => {
    const { device, run, facts } = await setUp({ root: 'none' });
    expect(planFor(facts, { systemCa: true, proxyPort: PORT })[0]).toMatch(/Downloads|leakscope-ca\.crt/);
    const done = await run;
    expect(done.ca).toMatchObject({ kind: 'user', file: '/sdcard/Download/leakscope-ca.crt' });
    expect(done.ca.kind === 'user' && done.ca.taps).toMatch(/Install a certificate → CA certificate/);
    expect(device.files.get('/sdcard/Download/leakscope-ca.crt')?.contents[0]).toBe(0x30); // DER SEQUENCE
    expect(device.calls).toContain('am start -a android.settings.SECURITY_SETTINGS');
    expect(device.calls.some((c) => c.includes('inject-ca.sh'))).toBe(false);
  });

  it('--no-system-ca on a rooted device: the user-store route, no root script', async () => {
    const { device, run } = await setUp({ root: 'adbd', sdk: 29, release: '10' }, { systemCa: false });
    expect((await run).ca.kind).toBe('user');
    expect(device.calls.some((c) => c.startsWith('am start -a android.intent.action.VIEW -t application/x-x509-ca-cert'))).toBe(true);
    expect(device.calls.some((c) => c.includes('inject-ca.sh'))).toBe(false);
  });
});

describe('identifiers read over adb (scripted device)', () => {
  it('parses a Parcel dump into its string; an exception or a null string is nothing', () => {
    expect(parcelString(parcelReply('865123456789012'))).toBe('865123456789012');
    expect(parcelString("Result: Parcel(fffffffc ffffffff '........')")).toBeUndefined();
    expect(parcelString(parcelReply(undefined))).toBeUndefined();
    expect(parcelString('service: not found')).toBeUndefined();
  });

  it('keeps what validates, and says what it could not read', async () => {
    const device = new ScriptedDevice({ imei: '490154203237518', imsi: '310260000000000', androidId: '9774D56D682E549C', serialNumber: 'R58M123ABC' });
    const found = await readDeviceIdentifiers(device, await probeDevice(device));
    expect(found).toMatchObject({ imei: ['490154203237518'], imsi: ['310260000000000'], android_id: ['9774d56d682e549c'], serial_number: ['R58M123ABC'], missing: [] });
  });

  it('a transaction code that answers something else is not taken for an IMEI or IMSI', async () => {
    const device = new ScriptedDevice({ imei: '490154203237519' /* Luhn fails */, imsi: '12' });
    const found = await readDeviceIdentifiers(device, await probeDevice(device));
    expect(found.imei).toEqual([]);
    expect(found.imsi).toEqual([]);
    expect(found.missing.join(' ')).toMatch(/imei: not readable.*imsi: not readable/);
  });

  it('what a device says about itself reaches no terminal as an escape sequence', async () => {
    const facts = await probeDevice(new ScriptedDevice({ model: 'Pixel\x1b]0;owned\x07 7\x1b[2J' }));
    expect(facts.model).toBe('Pixel ]0;owned  7 [2J');
    expect(describeDevice(facts)).not.toMatch(/[\x00-\x1f]/);
  });

  it('adds the values to the identifiers file as that device, once, keeping what was there', () => {
    const raw = { note: 'kept', devices: [{ name: 'Google Pixel 7', imei: ['490154203237518'], extra: 1 }] };
    const found = { imei: ['490154203237518'], imsi: ['310260000000000'], android_id: ['9774d56d682e549c'], serial_number: [], missing: [] };
    const updated = addFoundIdentifiers(raw, 'Google Pixel 7', found);
    expect(updated).toEqual({ note: 'kept', devices: [{ name: 'Google Pixel 7', imei: ['490154203237518'], extra: 1, imsi: ['310260000000000'], android_id: ['9774d56d682e549c'] }] });
    expect(parseIdentifiers(addFoundIdentifiers({}, 'Pixel', found)).ok).toBe(true);
  });
});

describe('choosing the device (scripted adb server)', () => {
  const server = (attached: { serial: string; state: string }[]): AdbServer => ({
    endpoint: { host: '127.0.0.1', port: 5037 },
    list: async () => attached,
    device: (serial) => new ScriptedDevice({ serial, root: 'su' }),
  });
  const choose = async (attached: { serial: string; state: string }[], serial?: string) =>
    chooseDevice(await listAndroidDevices(server(attached), { systemCa: true, proxyPort: PORT }, serial), serial);

  it('an unauthorised device: what to tap, as bad input', async () => {
    const err = await choose([{ serial: 'R58M123ABC', state: 'unauthorized' }]).catch((e: Error) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe('R58M123ABC is unauthorized: unlock it, tap Allow on its "Allow USB debugging?" prompt, and run this again');
  });

  it('several devices without --serial: names them and asks for --serial; with it, the one named', async () => {
    const two = [{ serial: 'emulator-5554', state: 'device' }, { serial: 'R58M123ABC', state: 'device' }];
    await expect(choose(two)).rejects.toThrow('2 devices attached (emulator-5554, R58M123ABC): choose one with --serial');
    const entry = await choose(two, 'R58M123ABC');
    expect(entry.facts?.root).toBe('su');
    expect(entry.plan?.[0]).toMatch(/^CA into the system store \(\/apex\/com\.android\.conscrypt\/cacerts/);
  });
});
