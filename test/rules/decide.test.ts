// Rule matching (first match wins, `*.` wildcards) and the rules file's validation.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decide, hostMatches } from '../../proxy/rules/decide';
import { loadRulesFile } from '../../proxy/rules/rules-holder';
import type { Rule } from '../../shared/rules';
import type { Finding } from '../../shared/types';
import { tempDir } from '../helpers/leakscope';

const finding = (type: Finding['type'], device?: string): Finding => ({
  type,
  value: 'x',
  where: 'body',
  path: '$.x',
  encoding: 'plain',
  confidence: 'known',
  ...(device ? { device } : {}),
});
const ctx = { host: 'api.push-example.cn', client: '192.168.1.23' };

describe('hostMatches', () => {
  it('matches a wildcard against the domain and every host under it, case-blind', () => {
    expect(hostMatches('*.push-example.cn', 'api.push-example.cn')).toBe(true);
    expect(hostMatches('*.push-example.cn', 'a.b.PUSH-example.cn')).toBe(true);
    expect(hostMatches('*.push-example.cn', 'push-example.cn')).toBe(true);
    expect(hostMatches('*.push-example.cn', 'notpush-example.cn')).toBe(false);
    expect(hostMatches('api.push-example.cn', 'cdn.push-example.cn')).toBe(false);
  });
});

describe('decide', () => {
  it('lets the first matching rule govern each finding', () => {
    const rules: Rule[] = [
      { match: { type: 'imei', host: '*.other.cn' }, action: 'block' },
      { match: { type: 'imei' }, action: 'allow' },
      { match: {}, action: 'redact' },
    ];
    const d = decide(rules, [finding('imei'), finding('phone_number')], ctx);
    expect(d.block).toBe(false);
    expect(d.passed.map((f) => f.type)).toEqual(['imei']);
    expect(d.redact.map((f) => f.type)).toEqual(['phone_number']);
    expect(d.touched).toEqual([rules[1], rules[2]]);
  });

  it('blocks the whole request when any finding falls under a block rule', () => {
    const rules: Rule[] = [{ match: { type: 'imsi', host: '*.push-example.cn' }, action: 'block' }, { match: {}, action: 'redact' }];
    const d = decide(rules, [finding('imei'), finding('imsi')], ctx);
    expect(d).toMatchObject({ block: true, redact: [], passed: [] });
  });

  it('matches a device by name (from the finding or the client) or by client address', () => {
    const byName: Rule[] = [{ match: { device: 'RedMi 1S' }, action: 'block' }];
    expect(decide(byName, [finding('imei', 'RedMi 1S')], ctx).block).toBe(true);
    expect(decide(byName, [finding('imei')], { ...ctx, device: 'RedMi 1S' }).block).toBe(true);
    expect(decide(byName, [finding('imei', 'Pixel')], ctx).block).toBe(false);
    expect(decide([{ match: { device: '192.168.1.23' }, action: 'block' }], [finding('imei')], ctx).block).toBe(true);
  });

  it('touches nothing in a request without findings', () => {
    expect(decide([{ match: {}, action: 'block' }], [], ctx)).toEqual({ block: false, redact: [], passed: [], touched: [] });
  });
});

describe('rules file', () => {
  const write = (data: unknown) => {
    const file = path.join(tempDir(), 'rules.json');
    fs.writeFileSync(file, typeof data === 'string' ? data : JSON.stringify(data));
    return file;
  };

  it('loads the CONTRACT.md example', () => {
    const file = write({
      rules: [
        { match: { type: 'imei', host: '*.push-example.cn', device: 'RedMi 1S' }, action: 'block' },
        { match: { type: 'phone_number' }, action: 'redact' },
      ],
    });
    expect(loadRulesFile(file).rules).toHaveLength(2);
  });

  it.each([
    [{ rules: [{ match: { type: 'imie' }, action: 'block' }] }, /Rule 1: the identifier type must be one of imei, .*, not "imie" \(at rules\[0\]\.match\.type\)/],
    [{ rules: [{ match: {}, action: 'drop' }] }, /Rule 1: the action must be one of block, redact, allow, not "drop" \(at rules\[0\]\.action\)/],
    [{ rules: [{ match: { host: 'http://x.cn/' }, action: 'block' }] }, /Rule 1: the host must be a host name such as .*\(at rules\[0\]\.match\.host\)/],
    [{ rules: [{ match: { hots: 'x.cn' }, action: 'block' }] }, /Rule 1: the match has a field leakscope does not know: "hots"/],
    ['{"rules": [', /not valid JSON/],
  ])('names the file and the field of a bad rules file (%#)', (data, message) => {
    const file = write(data);
    expect(() => loadRulesFile(file)).toThrow(file);
    expect(() => loadRulesFile(file)).toThrow(message);
  });

  it('makes `leakscope start --rules BAD` exit 2 naming the file and field', async () => {
    const file = write({ rules: [{ match: {}, action: 'drop' }] });
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile('node', ['bin/leakscope.js', 'start', '--rules', file, '--data-dir', tempDir()], { timeout: 20_000 }, (err, _out, stderr) =>
        resolve({ code: err ? (err.code as number) : 0, stderr }),
      );
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`rules file ${file}: Rule 1: the action must be one of block, redact, allow, not "drop" (at rules[0].action)`);
  });
});
