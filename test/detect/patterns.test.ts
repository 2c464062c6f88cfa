import { describe, expect, it } from 'vitest';
import { createDetector } from '../../proxy/detect';
import { EMPTY_IDENTIFIERS } from '../../shared/identifiers';

const detector = createDetector(EMPTY_IDENTIFIERS);
const scan = async (body: unknown) =>
  (await detector.scanRequest({ url: 'https://a.example.com/c', headers: {}, body: Buffer.from(JSON.stringify(body)) })).findings.map(
    (f) => `${f.type}=${f.value}@${f.path}`,
  );

describe('pattern detectors', () => {
  it('flag checksummed and telling-keyed identifiers', async () => {
    expect(
      await scan({
        d: '356938035643809',
        sim: { imsi: '310260000000000', iccid: '8944500102198304826' },
        wifi: { bssid: '00:1A:2B:3C:4D:5E' },
        user: 'Bob.Smith@Gmail.com',
        android_id: '1a2b3c4d5e6f7a8b',
        idfa: '6D92078A-8246-4BA4-AE5B-76104861E7DC',
        profile: { mobile: '+44 20 7946 0958' },
        meid: 'A0000012345678',
      }),
    ).toEqual([
      'imei=356938035643809@$.d',
      'imsi=310260000000000@$.sim.imsi',
      'iccid=8944500102198304826@$.sim.iccid',
      'mac_address=00:1a:2b:3c:4d:5e@$.wifi.bssid',
      'email=bob.smith@gmail.com@$.user',
      'android_id=1a2b3c4d5e6f7a8b@$.android_id',
      'advertising_id=6d92078a-8246-4ba4-ae5b-76104861e7dc@$.idfa',
      'phone_number=+442079460958@$.profile.mobile',
      'meid=A0000012345678@$.meid',
    ]);
  });

  it('pairs coordinates under telling keys', async () => {
    expect(await scan({ loc: { latitude: '31.2304', longitude: '121.4737' } })).toEqual(['location=31.2304,121.4737@$.loc']);
  });

  it('takes unlabelled numbers as phones only in lists of them', async () => {
    expect(await scan({ c: ['+8613912345678', '+8613812345678', '+8618612345678'] })).toHaveLength(3);
    expect(await scan({ c: ['+8613912345678'], note: '+8613812345678' })).toEqual([]);
  });

  it('stays quiet on timestamps, order numbers, Luhn-invalid numbers, random IDs and hashes', async () => {
    expect(
      await scan({
        ts: 170000000000000,
        created_at: '202311240001234',
        order_id: '356938035643809',
        id: '356938035643808',
        n: '123456789012345',
        request_id: 'f47ac10b-58cc-4372-a567-0e02b2c3d479',
        trace: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
        hash: 'd41d8cd98f00b204e9800998ecf8427e',
        version: '10.0.0.1',
        icon: 'icon@2x.png',
        uuid: '00000000-0000-0000-0000-000000000000',
        session: '1a2b3c4d5e6f7a8b',
        price: '12.34567',
        time: '12:34:56',
      }),
    ).toEqual([]);
  });
});
