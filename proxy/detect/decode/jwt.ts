// JSON Web Tokens: `header.payload.signature`, each part base64url. The payload is JSON claims (Firebase ID
// tokens carry the user's e-mail and phone number there).
import { utf8Text } from './bytes';

const JWT = /^(?:Bearer\s+)?(eyJ[A-Za-z0-9_-]+)\.(eyJ[A-Za-z0-9_-]*)\.[A-Za-z0-9_-]*$/;

/** The payload of a JWT (a header and a payload that open as JSON objects, `eyJ` = `{"`), as text. */
export function jwtPayload(text: string): string | undefined {
  // `eyJ` or `Bearer` opens every one: checked first, as this runs on every plain-text value
  const first = text.charCodeAt(0);
  if (text.length < 20 || (first !== 0x65 && first !== 0x42) || text.indexOf('.') < 0) return undefined; // e B
  const m = JWT.exec(text);
  if (!m) return undefined;
  const payload = utf8Text(Buffer.from(m[2], 'base64url'));
  return payload?.startsWith('{') ? payload : undefined;
}
