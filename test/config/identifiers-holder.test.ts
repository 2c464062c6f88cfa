import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IdentifiersHolder } from '../../proxy/config/identifiers-holder';
import { identifiersSchema } from '../../shared/identifiers';

let dir = '';
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('saving the identifiers file', () => {
  it('keeps the previous file, byte for byte, as .bak before rewriting it', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leakscope-ids-'));
    const file = path.join(dir, 'identifiers.json');
    const original = '{\n  "devices": [ { "name": "RedMi", "imei": ["865123456789012"] } ]\n}\n';
    fs.writeFileSync(file, original);
    const holder = new IdentifiersHolder(file);
    holder.set(identifiersSchema.parse({ devices: [{ name: 'RedMi', imei: ['865123456789013'] }] }));
    expect(fs.readFileSync(holder.backupFile, 'utf8')).toBe(original);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).devices[0].imei).toEqual(['865123456789013']);
  });

  it('writes no backup when there was no file yet', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leakscope-ids-'));
    const holder = new IdentifiersHolder(path.join(dir, 'identifiers.json'));
    holder.set(identifiersSchema.parse({ devices: [] }));
    expect(fs.existsSync(holder.backupFile)).toBe(false);
  });
});
