// What the phone does in the namespace tests, run inside the phone's namespace with no proxy setting: a raw
// TCP exchange (`tcp HOST PORT TEXT`: prints the answer) and UDP probes (`udp HOST PORT`: prints "refused"
// when an ICMP port unreachable comes back within a second, else "silent").
import dgram from 'node:dgram';
import net from 'node:net';

const [what, host, port, text] = process.argv.slice(2);
if (what === 'tcp') {
  const socket = net.connect(Number(port), host, () => socket.write(text));
  socket.on('data', (d) => {
    process.stdout.write(d);
    socket.end();
  });
  socket.on('error', (err) => {
    console.log(`error ${(err as NodeJS.ErrnoException).code}`);
    process.exitCode = 1;
  });
  socket.on('close', () => process.exit());
  setTimeout(() => {
    console.log('timeout');
    process.exit(1);
  }, 5_000);
} else {
  const socket = dgram.createSocket('udp4');
  socket.on('error', (err) => {
    console.log((err as NodeJS.ErrnoException).code === 'ECONNREFUSED' ? 'refused' : `error ${(err as NodeJS.ErrnoException).code}`);
    process.exit(0);
  });
  socket.connect(Number(port), host, () => {
    socket.send('probe');
    setTimeout(() => {
      console.log('silent');
      process.exit(0);
    }, 1_000);
  });
}
