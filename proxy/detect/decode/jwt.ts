// JSON Web Tokens: `header.payload.signature`, each part base64url. The payload is JSON claims (Firebase ID
// tokens carry the user's e-mail and phone number there).
import { utf8Text } from './bytes';

const JWT = /^(?:Bearer\s+)?(eyJ[A-Za-z0-9_-]+)\.(eyJ[A-Za-z0-9_-]*)\.[A-Za-z0-9_-]*$/;

/** The payload of a JWT (a header and a payload that open as JSON objects, `eyJ` = `{"`), as text. */
export function jwtPayload(text: string): string | undefined {
  if (text.length < 20 || text.indexOf('.') < 0) return undefined;
  const m = JWT.exec(text);
  if (!m) return undefined;
  const payload = utf8Text(Buffer.from(m[2], 'base64url'));
  return payload?.startsWith('{') ? payload : undefined;
}
