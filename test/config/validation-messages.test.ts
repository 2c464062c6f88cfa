// Identifiers and rules refused in words: which phone (by its name), which field, what is wrong, what is expected,
// with each fault's path kept for programs.
import { describe, expect, it } from 'vitest';
import { parseIdentifiers } from '../../shared/identifiers';
import type { Issue, ParseResult } from '../../shared/issues';
import { parseRules } from '../../shared/rules';

const refused = (r: ParseResult<unknown>): Issue[] => {
  if (r.ok) throw new Error('expected a refusal');
  return r.issues;
};

describe('identifier errors', () => {
  it('names the phone, the entry and the field, and says what is expected', () => {
    const issues = refused(parseIdentifiers({ devices: [{ name: 'RedMi 1S', location: [{ lat: 95, lon: 116.4 }] }] }));
    expect(issues).toEqual([
      {
        message: 'Phone "RedMi 1S", location 1: latitude must be a number between -90 and 90, not the number 95',
        path: ['devices', 0, 'location', 0, 'lat'],
        at: 'devices[0].location[0].lat',
      },
    ]);
  });

  it('numbers an unnamed phone and the values of a list from 1', () => {
    const issues = refused(parseIdentifiers({ devices: [{ name: 'A' }, { imei: ['865123456789012', 865123456789013, ''] }] }));
    expect(issues.map((i) => i.message)).toEqual([
      'Phone 2: IMEI 2 must be text in quotes, not the number 865123456789013',
      'Phone 2: IMEI 3 must not be empty',
    ]);
  });

  it('names a contact by its name, and quotes what was given', () => {
    const issues = refused(parseIdentifiers({ devices: [{ name: 'Pixel', contacts: [{ name: 'Alice Canary', phone: '+1 202 555 0143' }], location: [{ lat: '39.9' }] }] }));
    expect(issues.map((i) => i.message)).toEqual([
      'Phone "Pixel", contact 1 ("Alice Canary"): the phone number list must be a list of text in quotes, e.g. ["…"], not "+1 202 555 0143"',
      'Phone "Pixel", location 1: latitude must be a number between -90 and 90, not "39.9"',
      'Phone "Pixel", location 1: longitude is missing: it must be a number between -180 and 180',
    ]);
  });

  it('explains a file of the wrong shape', () => {
    expect(refused(parseIdentifiers([]))[0].message).toBe('The identifiers file must be an object { "devices": [ … ] }, not a list');
    expect(refused(parseIdentifiers({ devices: { name: 'x' } }))[0].message).toBe('"devices" must be a list [ … ] of phones, not an object');
  });

  it('gives the CLI one line with the sentence and the path for whoever edits the file', () => {
    const r = parseIdentifiers({ devices: [{ name: 'RedMi 1S', imei: [42] }] });
    expect(!r.ok && r.error).toBe('Phone "RedMi 1S": IMEI 1 must be text in quotes, not the number 42 (at devices[0].imei[0])');
  });
});

describe('rule errors', () => {
  it('names the rule and the field, and lists what is allowed', () => {
    const issues = refused(parseRules({ rules: [{ match: { type: 'imei' }, action: 'block' }, { match: { host: 'http://x.cn/', hots: 'x' }, action: 'drop' }] }));
    expect(issues.map((i) => i.message)).toEqual([
      'Rule 2: the host must be a host name such as api.example.cn, or *.example.cn for it and every host under it, not "http://x.cn/"',
      'Rule 2: the match has a field leakscope does not know: "hots" (a misspelling?)',
      'Rule 2: the action must be one of block, redact, allow, not "drop"',
    ]);
    expect(issues.map((i) => i.at)).toEqual(['rules[1].match.host', 'rules[1].match', 'rules[1].action']);
  });
});
