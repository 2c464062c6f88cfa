// WireGuard key pairs (X25519; a key is its raw 32 bytes in base64, as `wg` writes them) for leakscope's end of
// the tunnel and for each phone (peer), made once and kept in DATA_DIR/wireguard/keys.json (0600): a phone that
// scanned its QR code keeps working across restarts.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { UsageError } from '../cli/errors';

export interface KeyPair {
  privateKey: string;
  publicKey: string;
}

export interface PeerKeys {
  name: string;
  keys: KeyPair;
}

export interface WireguardKeys {
  server: KeyPair;
  /** every peer ever named, in the order they were first named (their tunnel addresses follow this order) */
  peers: PeerKeys[];
}

const KEY = z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'a WireGuard key (44 characters of base64)');
const PAIR = z.object({ privateKey: KEY, publicKey: KEY });
const FILE = z.object({ server: PAIR, peers: z.array(z.object({ name: z.string().min(1), keys: PAIR })) });

const fromBase64url = (s: string) => Buffer.from(s, 'base64url').toString('base64');

export function newKeyPair(): KeyPair {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('x25519');
  return { privateKey: fromBase64url(privateKey.export({ format: 'jwk' }).d!), publicKey: fromBase64url(publicKey.export({ format: 'jwk' }).x!) };
}

function read(file: string): WireguardKeys | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UsageError(`${file}: cannot read it (${(err as NodeJS.ErrnoException).code})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file}: not valid JSON (${(err as Error).message}); move it away to make new keys`);
  }
  const parsed = FILE.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(`${file}: ${issue.path.join('.') || 'the file'}: ${issue.message}; move it away to make new keys`);
  }
  return parsed.data;
}

/** The keys in `dir`, with a new pair for each peer name not seen before; written back (0600) when anything was made. */
export function loadKeys(dir: string, peerNames: string[]): WireguardKeys {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  const file = path.join(dir, 'keys.json');
  const found = read(file);
  const keys: WireguardKeys = found ?? { server: newKeyPair(), peers: [] };
  let changed = !found;
  for (const name of peerNames) {
    if (keys.peers.some((p) => p.name === name)) continue;
    keys.peers.push({ name, keys: newKeyPair() });
    changed = true;
  }
  if (changed) {
    // Written whole to a new file and renamed over: a crash never leaves half a key file.
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(keys, null, 2) + '\n', { mode: 0o600 });
    fs.renameSync(tmp, file);
  }
  fs.chmodSync(file, 0o600);
  return keys;
}
