// A throwaway PostgreSQL cluster for the lab tests: Debian's server binaries (installed with apt-get when
// missing), initdb and pg_ctl as the unprivileged `postgres` user, data dir and Unix socket in a temp dir, a
// free port on 127.0.0.1, trust auth (loopback only). Removed again in afterAll, even when a test failed.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';

export interface TestPostgres {
  port: number;
  /** a database URL for a fresh database `name` */
  createDatabase(name: string): string;
  /** psql -At against database `db` */
  query(db: string, sql: string): string;
  /** stops the server (pg_ctl stop -m fast: clients are disconnected), keeping the cluster */
  pause(): void;
  /** starts it again on the same port */
  resume(): void;
  stop(): void;
}

const PG_ROOT = '/usr/lib/postgresql';

function serverBinDir(): string {
  const find = () =>
    fs.existsSync(PG_ROOT)
      ? fs.readdirSync(PG_ROOT).sort((a, b) => Number(b) - Number(a)).map((v) => path.join(PG_ROOT, v, 'bin')).find((bin) => fs.existsSync(path.join(bin, 'initdb')) && fs.existsSync(path.join(bin, 'postgres')))
      : undefined;
  let bin = find();
  if (!bin) {
    process.stderr.write('test/helpers/postgres: installing Debian postgresql with apt-get\n');
    const apt = (args: string[]) => execFileSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    apt(['update', '-qq']);
    apt(['install', '-y', '-qq', 'postgresql']);
    bin = find();
  }
  if (!bin) throw new Error(`no PostgreSQL server binaries under ${PG_ROOT} after installing postgresql`);
  return bin;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const asPostgres = (program: string, args: string[]) =>
  execFileSync('runuser', ['-u', 'postgres', '--', program, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });

export async function startPostgres(): Promise<TestPostgres> {
  const bin = serverBinDir();
  // not ./leakscope's tempDir: the suite's postgres pass starts a cluster from vitest's globalSetup, without the app
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'leakscope-pg-'));
  const data = path.join(root, 'data');
  const socket = path.join(root, 'socket');
  fs.mkdirSync(socket);
  execFileSync('chown', ['-R', 'postgres:postgres', root]);
  fs.chmodSync(root, 0o755);
  const port = await freePort();
  asPostgres(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  const options = `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${socket} -c fsync=off`;
  const start = () => asPostgres(path.join(bin, 'pg_ctl'), ['-D', data, '-o', options, '-l', path.join(root, 'log'), '-w', '-t', '30', 'start']);
  start();
  let stopped = false;
  const psql = (db: string, sql: string) =>
    execFileSync(path.join(bin, 'psql'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', db, '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8', timeout: 30_000 });
  return {
    port,
    createDatabase(name) {
      psql('postgres', `CREATE DATABASE ${name}`);
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    query: psql,
    pause: () => asPostgres(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']),
    resume: start,
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        asPostgres(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // paused by a test that failed before it resumed: nothing runs
      } finally {
        fs.rmSync(root, { recursive: true, force: true });
      }
    },
  };
}

/** For the enclosing describe block: a cluster started before its tests and removed after them. */
export function postgresForTests(): { pg: TestPostgres } {
  const env = {} as { pg: TestPostgres };
  beforeAll(async () => {
    env.pg = await startPostgres();
  }, 120_000);
  afterAll(() => env.pg?.stop());
  return env;
}
