// Request bodies shaped to make detection work hard, each up to 1 MiB (the most of a body that is scanned):
// what a misbehaving or hostile app could send to stall the proxy. JSON is sized to fit whole (cut, it would
// not parse); text is cut at 1 MiB. Seeded: the same bodies every run.
import type { ScanInput } from '../proxy/detect';
import { seededRandom } from '../test/helpers/seeded-random';

const MIB = 1 << 20;

export function hostileBodies(): { name: string; input: ScanInput }[] {
  const rand = seededRandom(0xbad);
  const digits = (n: number) => Array.from({ length: n }, () => Math.floor(rand() * 10)).join('');
  const byte = () => Math.floor(rand() * 256).toString(16).padStart(2, '0');
  const json: Record<string, unknown> = {
    'national phone numbers in a list': { contacts: Array.from({ length: 78_000 }, () => `0${digits(9)}`) },
    'international phone numbers in a list': { phones: Array.from({ length: 52_000 }, () => `+86 138 ${digits(4)} ${digits(4)}`) },
    'JSON strings holding JSON': Array.from({ length: 19_000 }, () => JSON.stringify({ a: JSON.stringify({ imei: digits(15) }) })),
  };
  const text: Record<string, string> = {
    'MAC addresses': Array.from({ length: 60_000 }, () => Array.from({ length: 6 }, byte).join(':')).join(' '),
    'e-mail addresses': Array.from({ length: 45_000 }, (_, i) => `user${i}@example${i % 97}.com`).join(' '),
    'digits': digits(MIB),
    'base64 of base64': Buffer.from(Buffer.from(digits(560_000)).toString('base64')).toString('base64'),
  };
  const bodies = [
    ...Object.entries(json).map(([name, value]) => {
      const body = Buffer.from(JSON.stringify(value));
      if (body.length > MIB) throw new Error(`hostile body "${name}" is ${body.length} bytes, past 1 MiB`);
      return [name, body] as const;
    }),
    ...Object.entries(text).map(([name, value]) => [name, Buffer.from(value).subarray(0, MIB)] as const),
  ];
  return bodies.map(([name, body]) => ({
    name,
    input: { method: 'POST', url: 'https://hostile.example/upload', headers: { 'content-type': 'application/json' }, body },
  }));
}
