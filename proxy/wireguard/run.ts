// Runs the network tools WireGuard mode drives (nft, ip, wg): a failure is an error carrying what the tool said.
import { execFile } from 'node:child_process';

export function run(program: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(program, args, { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${program} ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
    // a program that exits without reading its input must not turn into an EPIPE here
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(input ?? '');
  });
}
