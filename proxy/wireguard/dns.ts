// leakscope's DNS for the tunnel: every UDP query from a phone (to the tunnel address, or to any server the app
// hard-codes: the firewall redirects all UDP 53 here) is answered from this machine's own resolver, and the
// answers are written to the DNS log. Packets are read and written by `dns-packet`.
import dgram from 'node:dgram';
import dns from 'node:dns';
import packet from 'dns-packet';
import { log } from '../log';
import { SETUP_HOST } from '../server/setup-page';
import { bindUdp } from '../util/listen';
import type { DnsLog } from './dns-log';

type Answer = packet.Answer;
type Rcode = 'NOERROR' | 'NXDOMAIN' | 'SERVFAIL';

const TTL = 60;
/** RFC 1035: a UDP answer longer than this without EDNS is truncated (TC) so the client asks over TCP */
const PLAIN_UDP_LIMIT = 512;

export interface DnsResponder {
  port: number;
  close(): Promise<void>;
}

export interface DnsOptions {
  host: string;
  dnsLog: DnsLog;
  /** what leakscope.setup resolves to: leakscope's own address in the tunnel */
  setupAddress: string;
}

function nodata(err: unknown): boolean {
  return ['ENODATA', 'ENOTFOUND', 'EAI_NODATA', 'EAI_NONAME'].includes((err as NodeJS.ErrnoException).code ?? '');
}

/** The system resolver's records of one name and type, as DNS answers; getaddrinfo (with /etc/hosts) for addresses. */
async function resolve(name: string, type: string): Promise<Answer[]> {
  const answer = <T>(t: string, data: T) => ({ name, type: t, ttl: TTL, class: 'IN', data }) as unknown as Answer;
  switch (type) {
    case 'A':
    case 'AAAA': {
      const found = await dns.promises.lookup(name, { family: type === 'A' ? 4 : 6, all: true });
      return found.map((a) => answer(type, a.address));
    }
    case 'CNAME':
      return (await dns.promises.resolveCname(name)).map((d) => answer(type, d));
    case 'NS':
      return (await dns.promises.resolveNs(name)).map((d) => answer(type, d));
    case 'PTR':
      return (await dns.promises.resolvePtr(name)).map((d) => answer(type, d));
    case 'MX':
      return (await dns.promises.resolveMx(name)).map((d) => answer(type, { preference: d.priority, exchange: d.exchange }));
    case 'TXT':
      return (await dns.promises.resolveTxt(name)).map((d) => answer(type, d));
    case 'SRV':
      return (await dns.promises.resolveSrv(name)).map((d) => answer(type, { priority: d.priority, weight: d.weight, port: d.port, target: d.name }));
    default:
      // HTTPS/SVCB and the rest: no records, so apps use A (and never learn an h3/QUIC hint)
      return [];
  }
}

async function answerQuestion(question: packet.Question, opts: DnsOptions, client: string): Promise<{ rcode: Rcode; answers: Answer[] }> {
  const name = question.name.replace(/\.$/, '').toLowerCase();
  if (name === SETUP_HOST) {
    const answers = question.type === 'A' ? [{ name: question.name, type: 'A', ttl: TTL, class: 'IN', data: opts.setupAddress } as Answer] : [];
    return { rcode: 'NOERROR', answers };
  }
  try {
    const answers = await resolve(question.name, question.type);
    if (question.type === 'A' || question.type === 'AAAA') opts.dnsLog.record(client, name, answers.map((a) => String((a as { data: unknown }).data)));
    return { rcode: 'NOERROR', answers };
  } catch (err) {
    // getaddrinfo cannot tell "no such name" from "no address of this family": only a missing A is NXDOMAIN, so
    // that a name with IPv4 only is not cached as non-existent because its AAAA query failed.
    if (nodata(err)) return { rcode: question.type === 'A' ? 'NXDOMAIN' : 'NOERROR', answers: [] };
    log.debug({ name, type: question.type, err: (err as Error).message }, 'DNS: the system resolver failed');
    return { rcode: 'SERVFAIL', answers: [] };
  }
}

async function reply(query: packet.Packet, opts: DnsOptions, client: string): Promise<Buffer> {
  const question = query.questions?.[0];
  const { rcode, answers } = question ? await answerQuestion(question, opts, client) : { rcode: 'SERVFAIL' as Rcode, answers: [] };
  const response: packet.Packet = {
    id: query.id,
    type: 'response',
    flags: packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE,
    rcode,
    questions: query.questions,
    answers,
  } as packet.Packet;
  const wire = packet.encode(response);
  const edns = query.additionals?.some((a) => a.type === 'OPT');
  if (wire.length <= PLAIN_UDP_LIMIT || edns) return wire;
  return packet.encode({ ...response, answers: [], flags: (response.flags ?? 0) | packet.TRUNCATED_RESPONSE });
}

export async function startDns(opts: DnsOptions): Promise<DnsResponder> {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (message, from) => {
    let query: packet.Packet;
    try {
      query = packet.decode(message);
    } catch {
      return void log.debug({ client: from.address }, 'DNS: a packet that is not a DNS query');
    }
    if (query.type !== 'query') return;
    reply(query, opts, from.address).then(
      (wire) => socket.send(wire, from.port, from.address),
      (err: Error) => log.error({ err: err.message }, 'DNS: could not answer'),
    );
  });
  const port = await bindUdp(socket, opts.host, 0, 'the tunnel DNS');
  socket.on('error', (err) => log.error({ err: err.message }, 'DNS socket error'));
  return { port, close: () => new Promise<void>((done) => socket.close(() => done())) };
}
