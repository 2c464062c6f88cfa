// Request heads leakscope will not pass on: one over REQUEST_HEAD_BYTES (parsed, so it is recorded and scanned,
// then answered 431), and one the parser could not read at all (answered with a text body, never a bare close).
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { log } from '../log';
import { PARSER_HEAD_BYTES, REQUEST_HEAD_BYTES } from './limits';
import type { Refusal } from './target-guard';

const KIB = 1024;

/** The request line and header block's size as sent: each header line is `name: value` plus CRLF. */
export function headBytes(req: http.IncomingMessage): number {
  let bytes = (req.method?.length ?? 0) + (req.url?.length ?? 0) + 12;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) bytes += raw[i].length + raw[i + 1].length + 4;
  return bytes + 2;
}

export function oversizedHead(req: http.IncomingMessage): Refusal | undefined {
  const bytes = headBytes(req);
  if (bytes <= REQUEST_HEAD_BYTES) return undefined;
  return { status: 431, text: `leakscope: the request's line and headers are ${(bytes / KIB).toFixed(1)} KiB, over the ${REQUEST_HEAD_BYTES / KIB} KiB leakscope passes on` };
}

/** What the phone is told when its request could not be parsed; the parser's own error says why. */
function unreadable(err: NodeJS.ErrnoException): { status: number; text: string } {
  if (err.code === 'HPE_HEADER_OVERFLOW') return { status: 431, text: `leakscope: the request's headers are over ${PARSER_HEAD_BYTES / KIB} KiB` };
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, text: 'leakscope: the request did not arrive in time' };
  return { status: 400, text: `leakscope: malformed request (${err.code ?? err.message})` };
}

/** An http.Server's `clientError`: answers what can still be answered, in text, and logs it. */
export function answerUnreadable(err: NodeJS.ErrnoException, socket: Duplex, where: string): void {
  const answered = (socket as Duplex & { _httpMessage?: http.ServerResponse })._httpMessage?.headersSent;
  if (err.code === 'ECONNRESET' || !socket.writable || answered) {
    socket.destroy();
    return;
  }
  const { status, text } = unreadable(err);
  log.warn({ code: err.code, status }, `unreadable request ${where}`);
  socket.end(textAnswer(status, text));
}

/** A whole HTTP/1.1 answer in text, for a socket no http.ServerResponse owns (a parse error, an upgrade). */
export function textAnswer(status: number, text: string): string {
  const body = `${text}\n`;
  return `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
}
