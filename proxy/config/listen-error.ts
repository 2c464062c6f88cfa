// A listener that cannot start (port in use, no permission, an address not of this machine) is the tester's
// input that is wrong, not a crash: one line naming the option, the address and the port, and exit 2.
import { UsageError } from '../cli/errors';

export interface ListenTarget {
  /** the options that chose it, as the tester typed them */
  hostOption: string;
  portOption: string;
  host: string;
  port: number;
}

export function listenError(err: NodeJS.ErrnoException, where: ListenTarget): Error {
  const at = `${where.host.includes(':') ? `[${where.host}]` : where.host}:${where.port}`;
  switch (err.code) {
    case 'EADDRINUSE':
      return new UsageError(`${where.portOption} ${where.port}: ${at} is already in use (another leakscope or proxy?); choose another port with ${where.portOption}`);
    case 'EACCES':
      return new UsageError(`${where.portOption} ${where.port}: permission denied for ${at} (ports below 1024 need root or CAP_NET_BIND_SERVICE)`);
    case 'EADDRNOTAVAIL':
      return new UsageError(`${where.hostOption} ${where.host}: not an address of this machine`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return new UsageError(`${where.hostOption} ${where.host}: not an address or a name of this machine`);
    default:
      return err;
  }
}
