import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { canariesCommand } from '../../proxy/cli/canaries';
import { UsageError } from '../../proxy/cli/errors';
import { scanCommand, scanHar } from '../../proxy/cli/scan';
import { loadIdentifiersFile } from '../../proxy/config/load-identifiers';
import { createDetector } from '../../proxy/detect';

const dir = mkdtempSync(join(tmpdir(), 'leakscope-detect-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const har = (entries: unknown[]) => JSON.stringify({ log: { version: '1.2', creator: { name: 't', version: '1' }, entries } });
const entry = (url: string, text?: string) => ({
  request: { method: text ? 'POST' : 'GET', url, httpVersion: 'HTTP/1.1', headers: [{ name: 'User-Agent', value: 'okhttp' }], cookies: [], queryString: [], headersSize: -1, bodySize: -1, ...(text ? { postData: { mimeType: 'application/json', text } } : {}) },
});

afterEach(() => {
  process.exitCode = undefined;
  vi.restoreAllMocks();
});

describe('scan', () => {
  const leaky = file('leaky.har', har([entry('https://a.example.cn/p?x=1'), entry('https://t.example.cn/c', JSON.stringify({ imei: '356938035643809' }))]));

  it('reports findings with entry, host, method and url', async () => {
    expect(await scanHar(leaky)).toEqual({
      entries: 2,
      flagged: 1,
      findings: [
        { entry: 1, host: 't.example.cn', method: 'POST', url: 'https://t.example.cn/c', type: 'imei', value: '356938035643809', where: 'body', path: '$.imei', encoding: 'plain', confidence: 'pattern' },
      ],
    });
  });

  it('sets exit code 1 only with --fail-on-leak and findings', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    await scanCommand().parseAsync([leaky, '--json'], { from: 'user' });
    expect(process.exitCode).toBeUndefined();
    expect(JSON.parse(log.mock.calls[0][0] as string).flagged).toBe(1);
    await scanCommand().parseAsync([leaky, '--fail-on-leak'], { from: 'user' });
    expect(process.exitCode).toBe(1);
  });

  it('rejects a corrupt or non-HAR file naming it', async () => {
    await expect(scanHar(file('broken.har', '{"log": '))).rejects.toThrow(UsageError);
    await expect(scanHar(file('broken.har', '{"log": '))).rejects.toThrow(/broken\.har: not valid JSON/);
    await expect(scanHar(file('other.har', '{"entries": []}'))).rejects.toThrow(/other\.har: not a HAR file/);
    await expect(scanHar(file('bad-entry.har', har([{ request: { method: 'GET', headers: [] } }])))).rejects.toThrow(/log\.entries\[0\]\.request\.url/);
    await expect(scanHar(join(dir, 'missing.har'))).rejects.toThrow(/missing\.har: cannot read/);
  });
});

describe('identifiers file', () => {
  it('names the file, field and fault', () => {
    expect(() => loadIdentifiersFile(file('syntax.json', '{ devices: [] }'))).toThrow(/syntax\.json: not valid JSON/);
    expect(() => loadIdentifiersFile(file('field.json', '{"devices":[{"imei":[42]}]}'))).toThrow('field.json: Phone 1: IMEI 1 must be text in quotes, not the number 42 (at devices[0].imei[0])');
  });
});

describe('canaries', () => {
  it('writes importable vCards and adds them to the identifiers file, keeping what was there', async () => {
    vi.spyOn(console, 'log').mockImplementation(() => {});
    const ids = file('ids.json', JSON.stringify({ devices: [{ name: 'Pixel', imei: ['356938035643809'] }] }));
    const out = join(dir, 'c.vcf');
    await canariesCommand().parseAsync(['--count', '12', '--out', out, '--identifiers', ids], { from: 'user' });
    await canariesCommand().parseAsync(['--count', '3', '--out', out, '--identifiers', ids], { from: 'user' });
    const vcf = readFileSync(out, 'utf8');
    expect(vcf.match(/BEGIN:VCARD\r\nVERSION:3\.0\r\n/g)).toHaveLength(3);
    const written = JSON.parse(readFileSync(ids, 'utf8'));
    expect(written.devices[0]).toEqual({ name: 'Pixel', imei: ['356938035643809'] });
    const contacts = written.devices[1].contacts as { name: string; phone: string[]; email: string[] }[];
    expect(contacts).toHaveLength(15);
    // the second batch numbers on: each canary is one person to the contact count
    expect(new Set(contacts.map((c) => c.name)).size).toBe(15);
    expect(new Set(contacts.map((c) => c.phone[0])).size).toBe(15);
    expect(new Set(contacts.map((c) => c.email[0])).size).toBe(15);
    // an app uploading the imported cards is caught
    const detector = createDetector(loadIdentifiersFile(ids));
    const r = await detector.scanRequest({ url: 'https://x.example/up', headers: { 'content-type': 'text/vcard' }, body: Buffer.from(vcf) });
    expect(r.findings.filter((f) => f.type === 'contact')).toHaveLength(6);
    expect(r.tags).toContain('contact-list');
  });

  it('refuses a bad count', async () => {
    await expect(canariesCommand().exitOverride().parseAsync(['--count', 'x'], { from: 'user' })).rejects.toThrow(/whole number/);
  });
});
