import { parseIdentifiers, type Identifiers } from '../../shared/identifiers';

/** The identifiers of the contract's example, one device. */
export function exampleIdentifiers(): Identifiers {
  const parsed = parseIdentifiers({
    devices: [
      {
        name: 'RedMi 1S',
        imei: ['865123456789012'],
        meid: ['A1000012345678'],
        imsi: ['460001234567890'],
        iccid: ['89860012345678901234'],
        phone_number: ['+86 138 0013 8000'],
        android_id: ['9774d56d682e549c'],
        advertising_id: ['38400000-8cf0-11bd-b23e-10b96e40000d'],
        mac_address: ['a0:86:c6:12:34:56'],
        serial_number: ['RM1S0012345'],
        email: ['Tester@Example.org'],
        contacts: [
          { name: 'Alice Canary', phone: ['+1 202 555 0143'], email: ['alice@example.org'] },
          { name: 'Bob Canary', phone: ['+1 202 555 0144'], email: [] },
          { name: 'Carol Canary', phone: ['+1 202 555 0145'], email: [] },
        ],
        sms: ['Your code is 482913', '你的验证码是 482913，请勿泄露'],
        location: [{ lat: 39.9042, lon: 116.4074 }],
      },
    ],
  });
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}
