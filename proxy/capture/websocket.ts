// A WebSocket end to end: the phone's upgrade request goes to the server as sent, the server's answer (its 101,
// subprotocol and all) comes back as it was, and then frames pass both ways. The server's frames go to the phone
// byte for byte as they arrive and are read on the side; the phone's are held a message at a time, scanned and
// judged by the rules, then passed on as they were (or dropped, or replaced by a redaction), in the order sent.
// One exception to "as sent": the offer of compression (Sec-WebSocket-Extensions) is not passed on, so messages
// travel uncompressed and can be read and redacted; both ends then agree on no extension, as RFC 6455 allows.
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ClosedBy, Headers } from '../../shared/types';
import { log } from '../log';
import { addressedAs, describeUpstreamError, INTERRUPTED, rawToHeaders, serverName, type ForwardTarget, type UpstreamOptions } from './forward';
import { WEBSOCKET_MESSAGE_BYTES } from './limits';
import { textAnswer } from './request-head';
import { isThisMachine } from './target-guard';
import { encodeFrame, FrameReader, FrameTooLarge, MessageAssembler, OPCODE, type Frame } from './ws-frames';

export interface WebSocketHandshake {
  client: string;
  /** ws:// or wss://, as the app addressed it (see `addressedAs`) */
  url: string;
  host: string;
  port: number;
  hostHeader?: string;
  requestHeaders: Headers;
  start: number;
  /** the server's answer: 101, or the status it refused the upgrade with; absent if it never answered */
  status?: number;
  statusText?: string;
  responseHeaders?: Headers;
  wait?: number;
  remoteAddress?: string;
}

export interface WebSocketData {
  opcode: 1 | 2;
  data: Buffer;
  time: number;
}

export interface WebSocketVerdict {
  /** the message is not passed on (a block rule) */
  drop?: boolean;
  /** sent instead of the message (a redaction), in a frame of the same kind */
  data?: Buffer;
}

/** One connection's flow, open from the handshake's answer until `close`. */
export interface WebSocketSession {
  /** a message from the phone: resolves with what to do with it, once it is scanned and judged */
  send(message: WebSocketData): Promise<WebSocketVerdict>;
  /** a message from the server (already on its way to the phone) */
  receive(message: WebSocketData): void;
  close(end: { closedBy: ClosedBy; error?: string }): void;
}

export interface WebSocketHooks {
  openWebSocket(handshake: WebSocketHandshake): WebSocketSession;
}

// Hop-by-hop headers go, except the two that make this an upgrade; the compression offer goes (see above).
const NOT_PASSED = new Set(['keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'sec-websocket-extensions']);

function upgradeHeaders(raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (!NOT_PASSED.has(raw[i].toLowerCase())) out.push(raw[i], raw[i + 1]);
  return out;
}

/** A response head as the server sent it, the framing left out when its body is passed on unframed. */
function responseHead(res: http.IncomingMessage, drop: (name: string) => boolean = () => false): string {
  let head = `HTTP/1.1 ${res.statusCode} ${res.statusMessage ?? ''}\r\n`;
  const raw = res.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) if (!drop(raw[i].toLowerCase())) head += `${raw[i]}: ${raw[i + 1]}\r\n`;
  return head + '\r\n';
}

const isData = (opcode: number) => opcode === OPCODE.text || opcode === OPCODE.binary || opcode === OPCODE.continuation;

/** The data frames of each direction, gathered into messages; control frames noted as they pass. */
function messageReader(onMessage: (opcode: number, data: Buffer, frames: Frame[]) => void, onControl: (frame: Frame) => void) {
  const frames = new FrameReader(WEBSOCKET_MESSAGE_BYTES);
  const assembler = new MessageAssembler();
  let held = 0;
  return (chunk: Buffer) => {
    for (const frame of frames.push(chunk)) {
      if (!isData(frame.opcode)) {
        onControl(frame);
        continue;
      }
      held += frame.payload.length;
      if (held > WEBSOCKET_MESSAGE_BYTES) throw new FrameTooLarge(`a WebSocket message over ${WEBSOCKET_MESSAGE_BYTES} bytes`);
      const message = assembler.add(frame);
      if (message) {
        held = 0;
        onMessage(message.opcode, message.data, message.frames);
      }
    }
  };
}

/** Relays one upgrade request the phone sent through leakscope to `target`, recording the connection as one flow. */
export function relayWebSocket(
  req: http.IncomingMessage,
  phone: Duplex,
  head: Buffer,
  target: ForwardTarget,
  hooks: WebSocketHooks,
  upstream: UpstreamOptions,
): void {
  const start = Date.now();
  const handshake: WebSocketHandshake = {
    client: target.client,
    ...addressedAs(req, target, target.isSSL ? 'wss' : 'ws'),
    host: target.host,
    port: target.port,
    requestHeaders: req.headers as Headers,
    start,
  };
  phone.on('error', (err) => log.debug({ err: err.message }, 'WebSocket phone socket error'));
  // A loop or a forbidden target is still one flow: the app tried, and the tester sees where.
  if (target.refused) return refuseUpgrade(phone, handshake, hooks, target.refused);
  const local = isThisMachine(target.client);
  const agents = upstream.agents(local);
  const options: https.RequestOptions = {
    host: target.host,
    port: target.port,
    method: req.method,
    path: req.url,
    headers: [...upgradeHeaders(req.rawHeaders), 'via', `${req.httpVersion} ${upstream.via}`] as unknown as http.OutgoingHttpHeaders,
    agent: target.isSSL ? agents.https : agents.http,
    lookup: upstream.lookup(local, target.port),
    servername: target.isSSL ? serverName(target) : undefined,
  };
  const answered = (res: http.IncomingMessage) => {
    handshake.status = res.statusCode;
    handshake.statusText = res.statusMessage;
    handshake.responseHeaders = rawToHeaders(res.rawHeaders);
    handshake.wait = Date.now() - start;
    handshake.remoteAddress = res.socket?.remoteAddress;
  };
  let upstreamReq: http.ClientRequest;
  try {
    // An upgrade is HTTP/1.1 (RFC 6455): WebSockets over HTTP/2 (RFC 8441) are not offered upstream.
    upstreamReq = (target.isSSL ? https : http).request(options);
  } catch (err) {
    return refuseUpgrade(phone, handshake, hooks, describeUpstreamError(err as NodeJS.ErrnoException, handshake.url));
  }
  const headersLate = () => upstreamReq.destroy(Object.assign(new Error('upstream timeout'), { code: 'UPSTREAM_TIMEOUT' }));
  upstreamReq.setTimeout(upstream.timeout, headersLate);
  upstreamReq.on('error', (err: NodeJS.ErrnoException) => {
    if (handshake.status === undefined) refuseUpgrade(phone, handshake, hooks, describeUpstreamError(err, new URL(handshake.url).host));
  });
  upstreamReq.on('response', (res) => {
    // The server said no (or answered as to a plain request): the phone gets that answer, body and all.
    answered(res);
    phone.write(responseHead(res, (name) => name === 'transfer-encoding' || name === 'connection'));
    res.pipe(phone);
    res.on('end', () => hooks.openWebSocket(handshake).close({ closedBy: 'server', error: `the server refused the upgrade (${res.statusCode})` }));
  });
  upstreamReq.on('upgrade', (res: http.IncomingMessage, server: Socket, serverHead: Buffer) => {
    upstreamReq.off('timeout', headersLate);
    answered(res);
    phone.write(responseHead(res));
    relayFrames(phone, head, server, serverHead, hooks.openWebSocket(handshake), upstream);
  });
  upstreamReq.end();
}

/** leakscope's own answer when the server could not be reached: the flow records why. */
function refuseUpgrade(phone: Duplex, handshake: WebSocketHandshake, hooks: WebSocketHooks, answer: { status: number; text: string }): void {
  handshake.status = answer.status;
  phone.end(textAnswer(answer.status, answer.text));
  hooks.openWebSocket(handshake).close({ closedBy: 'leakscope', error: answer.text.replace(/^leakscope: /, '') });
}

function relayFrames(phone: Duplex, phoneHead: Buffer, server: Socket, serverHead: Buffer, session: WebSocketSession, upstream: UpstreamOptions): void {
  let closedBy: ClosedBy | undefined;
  let error: string | undefined;
  const cut = (by: ClosedBy, why?: string) => {
    closedBy ??= by;
    if (why) error ??= why;
    phone.destroy();
    server.destroy();
  };
  let open = 2;
  const closed = () => {
    if (--open === 0) session.close({ closedBy: closedBy ?? 'leakscope', ...(error ? { error } : {}) });
  };
  phone.once('close', closed);
  server.once('close', closed);

  // Server to phone: the bytes go on at once; a copy is read into messages for the flow.
  const fromServer = messageReader(
    (opcode, data) => session.receive({ opcode: opcode as 1 | 2, data, time: Date.now() }),
    (frame) => frame.opcode === OPCODE.close && (closedBy ??= 'server'),
  );
  const toPhone = (chunk: Buffer) => {
    if (!phone.write(chunk)) {
      server.pause();
      phone.once('drain', () => server.resume());
    }
    try {
      fromServer(chunk);
    } catch (err) {
      cut('leakscope', `${(err as Error).message}: leakscope holds messages whole, so it closed the connection`);
    }
  };

  // Phone to server: each message waits for its verdict, and for the one before it, so the order holds.
  let queue = Promise.resolve();
  const toServer = (bytes: Buffer) => {
    if (!server.destroyed && !server.write(bytes)) {
      phone.pause();
      server.once('drain', () => phone.resume());
    }
  };
  const fromPhone = messageReader(
    (opcode, data, frames) => {
      const verdict = session.send({ opcode: opcode as 1 | 2, data, time: Date.now() });
      queue = queue.then(
        () => verdict,
      ).then(
        (v) => {
          if (v.drop) return;
          if (v.data) toServer(encodeFrame(opcode, v.data, true));
          else for (const frame of frames) toServer(frame.raw);
        },
        // Fail closed, as a request that cannot be inspected gets a 502 rather than passing unseen.
        (err: Error) => log.error({ err: err.message }, 'WebSocket message not inspected: dropped'),
      );
    },
    (frame) => {
      if (frame.opcode === OPCODE.close) closedBy ??= 'client';
      queue = queue.then(() => toServer(frame.raw));
    },
  );
  const onPhoneData = (chunk: Buffer) => {
    try {
      fromPhone(chunk);
    } catch (err) {
      cut('leakscope', `${(err as Error).message}: leakscope holds messages whole, so it closed the connection`);
    }
  };

  server.on('data', toPhone);
  phone.on('data', onPhoneData);
  server.on('end', () => {
    closedBy ??= 'server';
    phone.end();
  });
  phone.on('end', () => {
    closedBy ??= 'client';
    void queue.then(() => server.end());
  });
  server.on('error', (err) => cut('server', `server connection failed: ${err.message}`));
  // Only silence cuts an open WebSocket: none of it for --idle-timeout, either way.
  server.setTimeout(upstream.idleTimeout, () => cut('leakscope', `idle timeout: no data either way for ${upstream.idleTimeout} ms`));
  const stop = () => cut('leakscope', INTERRUPTED);
  if (upstream.stopping.aborted) return stop();
  upstream.stopping.addEventListener('abort', stop, { once: true });
  server.once('close', () => upstream.stopping.removeEventListener('abort', stop));
  if (serverHead.length) toPhone(serverHead);
  if (phoneHead.length) onPhoneData(phoneHead);
}
