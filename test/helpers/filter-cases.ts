// The filter language's test flows and expressions, run over both stores (test/store/filter.test.ts): the same
// meaning in both.
import type { Flow } from '../../shared/types';
import { draftFlow } from './flows';

export const T0 = Date.UTC(2026, 10, 3, 9, 0, 0);
const redmi = { client: '192.168.1.23', device: 'RedMi 1S' };
const pixel = { client: '192.168.1.40', device: 'Pixel 7' };
/** Four flows, in order; the third is marked (`odd 404`). */
export const FILTER_FLOWS: Omit<Flow, 'id'>[] = [
  // 1: RedMi → xiaomi.com (CN), an md5'd IMEI, a word only in the request body
  {
    ...draftFlow({ start: T0, host: 'tracking.xiaomi.com', country: 'CN', ...redmi, body: '{"note":"quokka sighting"}', findings: [{ type: 'imei', encoding: 'md5' }] }),
    destination: { domain: 'xiaomi.com', country: 'CN', org: 'Xiaomi Communications', ip: '203.0.113.5', scope: 'public' },
  },
  // 2: RedMi → umeng.com (CN), a phone number in the URL, sha1+hex
  {
    ...draftFlow({ start: T0 + 1000, host: 'alog.umeng.com', country: 'CN', ...redmi, url: 'https://alog.umeng.com/app_logs?tel=x', findings: [{ type: 'phone_number', value: '+8613800138000', where: 'url', encoding: 'sha1+hex', confidence: 'pattern' }] }),
    destination: { domain: 'umeng.com', country: 'CN', org: 'Alibaba', ip: '203.0.113.6', scope: 'public' },
  },
  // 3: RedMi → a US CDN, nothing flagged, a 404 GET with the word in a response header and the response body
  {
    ...draftFlow({ start: T0 + 2000, host: 'cdn.example.com', country: 'US', ...redmi }),
    method: 'GET',
    status: 404,
    responseHeaders: { 'x-trace': 'Wombat-42' },
    responseBody: { text: Buffer.from('\x08\x96\x01binary platypus').toString('base64'), encoding: 'base64', size: 18 },
  },
  // 4: Pixel → xiaomi.com (CN), an IMEI in plain
  draftFlow({ start: T0 + 3000, host: 'api.xiaomi.com', country: 'CN', ...pixel, findings: [{ type: 'imei', device: 'Pixel 7' }] }),
];
/** Each expression and the flows (1-based, in FILTER_FLOWS) it finds. */
export const FILTER_CASES: [string, number[]][] = [
  ['quokka', [1]],
  ['QUOKKA', [1]],
  ['~bq quokka', [1]],
  ['~bs quokka', []],
  ['~bs platypus', [3]],
  ['~b platypus', [3]],
  ['~h wombat', [3]],
  ['~u app_logs', [2]],
  ['~d xiaomi', [1, 4]],
  ['~m get', [3]],
  ['~c 404', [3]],
  ['~t imei', [1, 4]],
  ['~enc md5', [1]],
  ['~enc sha1', [2]],
  ['~enc sha1+hex', [2]],
  ['~conf pattern', [2]],
  ['~cc CN', [1, 2, 4]],
  ['~org alibaba', [2]],
  ['~dev redmi & ~cc CN', [1, 2]],
  ['~dev redmi ~cc cn !~t phone_number', [1]],
  ['~dev pixel | ~c 404', [3, 4]],
  ['!(~cc cn | ~cc us)', []],
  ['~marked', [3]],
  ['~marked | "quokka sighting"', [1, 3]],
  ['wo', [3]],
  ['~session 1', [1, 2, 3, 4]],
];
