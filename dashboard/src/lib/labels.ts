import type { IdentifierType } from '../../../shared/types';

/** Short label and colour per identifier type: badges always carry the label, never colour alone. */
export const TYPE_INFO: Record<IdentifierType, { label: string; color: string }> = {
  imei: { label: 'IMEI', color: '#c62828' },
  meid: { label: 'MEID', color: '#ad1457' },
  imsi: { label: 'IMSI', color: '#6a1b9a' },
  iccid: { label: 'ICCID', color: '#4527a0' },
  phone_number: { label: 'Phone', color: '#1565c0' },
  android_id: { label: 'Android ID', color: '#00838f' },
  advertising_id: { label: 'Ad ID', color: '#00695c' },
  mac_address: { label: 'MAC', color: '#2e7d32' },
  serial_number: { label: 'Serial', color: '#558b2f' },
  email: { label: 'Email', color: '#9e6a00' },
  contact: { label: 'Contact', color: '#d84315' },
  sms: { label: 'SMS', color: '#4e342e' },
  location: { label: 'Location', color: '#37474f' },
  wifi: { label: 'Wi-Fi', color: '#0277bd' },
  installed_apps: { label: 'Apps', color: '#6d4c41' },
};

export function typeLabel(type: string): string {
  return (TYPE_INFO as Record<string, { label: string }>)[type]?.label ?? type;
}

export function typeColor(type: string): string {
  return (TYPE_INFO as Record<string, { color: string }>)[type]?.color ?? '#555';
}
