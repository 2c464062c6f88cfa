// `start --workers N`: this process is the primary. It owns what there is one of (the settings, the CA, the
// local store and a lab's shared one, the dashboard and its live feed) and runs no proxy itself. N worker
// processes (proxy-node.ts, node's cluster) share the proxy port and capture; each finished flow comes here over
// IPC, is stored by the same writer as in one process (so the outbox and its guarantees are unchanged), streamed,
// and then confirmed to its worker, which only then lets the phone's response end. A worker that dies is
// started again, and the exchanges it had announced but not finished are recorded here as interrupted.
import cluster, { type Worker } from 'node:cluster';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SessionInfo } from '../shared/audit';
import { summarize, type Flow } from '../shared/types';
import { addresses, type Leakscope, type StartOptions } from './app';
import type { CapturedRequest } from './capture/forward';
import type { Entrances } from './capture/entrances';
import { UsageError } from './cli/errors';
import { resolveWorkers } from './workers/check';
import { openInstance } from './instance';
import { log } from './log';
import { watchHeartbeats } from './workers/heartbeat';
import { Batcher, type FromWorker, type ToWorker, type WorkerInit } from './workers/protocol';

const WORKER_ENTRY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/proxy-worker.js');

export const WORKER_DIED = 'interrupted: its proxy worker process died before the exchange ended';

/** A worker that dies sooner than this after it came up waits before it is replaced: no restart loop at full speed. */
const STEADY_MS = 5_000;
const RESTART_DELAY_MS = 1_000;

/**
 * A worker unheard this long is taken as hung. Far above any pause a healthy worker makes: a 1 MiB body's scan
 * holds its loop for under a second.
 */
const HUNG_WORKER_MS = 30_000;

interface Node {
  worker: Worker;
  out: Batcher<ToWorker>;
  /** what was said before the worker could hear it (its code still loading): sent after its `init` */
  early?: ToWorker[];
  /** exchanges announced and not yet committed, by the worker's key */
  started: Map<number, CapturedRequest>;
  /** WebSockets and tunnels stored while still open: their flows' ids */
  open: Set<number>;
  since: number;
  listening: boolean;
  /** when it last said anything (see heartbeat.ts) */
  heard: number;
  up: Promise<void>;
  exited: Promise<void>;
}

export async function startHub(opts: StartOptions): Promise<Leakscope> {
  const count = resolveWorkers(opts.workers ?? 1, opts.modes);
  const core = await openInstance(opts, { udpDropped: () => [], peerName: () => undefined });
  const nodes = new Set<Node>();
  const pending = new Set<Promise<void>>();
  let stopping = false;
  let session: SessionInfo | undefined;
  const track = (task: Promise<void>) => {
    const tracked = task.catch((err: Error) => log.error({ err: err.message }, 'could not record a flow')).finally(() => pending.delete(tracked));
    pending.add(tracked);
  };
  /** /api/config lists the workers that serve: a replacement joins once it listens. */
  const pids = () => (core.config.workers = [...nodes].flatMap((n) => (n.listening && n.worker.process.pid ? [n.worker.process.pid] : [])));

  const init = (): WorkerInit => ({
    opts,
    identifiers: core.identifiers.get(),
    rules: core.rules.get(),
    deviceNames: core.store.deviceNames(),
    listeners: [...core.listeners],
    setupInfo: core.setupInfo,
  });
  const tell = (node: Node, message: ToWorker) => (node.early ? node.early.push(message) : node.out.push(message));
  const everyWorker = (message: ToWorker) => nodes.forEach((n) => tell(n, message));
  core.identifiers.onChange((identifiers) => everyWorker({ t: 'identifiers', identifiers }));
  core.rules.onChange((rules) => everyWorker({ t: 'rules', rules }));
  core.store.onRename((client, name) => everyWorker({ t: 'device-name', client, name }));

  /** Stores a worker's flow, streams it, then tells the worker (its phone's response may end now). */
  const store = (node: Node, ref: number, stored: Promise<Flow>) =>
    track(
      stored.then(
        (flow) => {
          if (flow.kind !== 'http' && !flow.closedBy) node.open.add(flow.id);
          else node.open.delete(flow.id);
          core.ui.live.publishFlow(summarize(flow));
          node.out.push({ t: 'stored', ref, id: flow.id });
        },
        (err: Error) => {
          node.out.push({ t: 'stored', ref, error: err.message });
          throw err;
        },
      ),
    );

  /** An exchange its worker took with it: judged here as it would have been there, stored as interrupted. */
  const interrupted = (request: CapturedRequest) =>
    track(
      core.pipeline.inspect(request).then((verdict) =>
        core.pipeline.complete({ request, requestSize: request.body.length, responseBody: Buffer.alloc(0), responseSize: 0, responseTruncated: false, total: Date.now() - request.start, error: WORKER_DIED }, verdict),
      ),
    );

  /** A WebSocket or tunnel its worker took with it: its flow, as last stored, closed by leakscope. */
  const cut = (id: number) => {
    const flow = core.store.get(id);
    if (!flow) return;
    const ended = { ...flow, closedBy: 'leakscope' as const, error: WORKER_DIED, timings: { ...flow.timings, total: Date.now() - flow.timings.start } };
    track(Promise.resolve(core.writer.update(ended)).then((stored) => core.ui.live.publishFlow(summarize(stored))));
  };

  cluster.setupPrimary({ exec: WORKER_ENTRY, serialization: 'advanced' });

  function fork(): Node {
    const worker = cluster.fork();
    let up!: { resolve: () => void; reject: (err: Error) => void };
    let exited!: () => void;
    const node: Node = {
      worker,
      out: new Batcher((batch) => worker.isConnected() && worker.send(batch)),
      early: [],
      started: new Map(),
      open: new Set(),
      since: Date.now(),
      listening: false,
      heard: Date.now(),
      up: new Promise((resolve, reject) => (up = { resolve, reject })),
      exited: new Promise((resolve) => (exited = resolve)),
    };
    // A start that fails is reported by `up`; nothing else waits on it.
    node.up.catch(() => undefined);
    nodes.add(node);
    worker.on('error', (err) => log.debug({ err: err.message, pid: worker.process.pid }, 'proxy worker channel error'));
    worker.on('message', (batch: FromWorker[]) => {
      node.heard = Date.now();
      for (const m of batch) {
        switch (m.t) {
          case 'hello':
            node.out.push({ t: 'init', init: init() });
            for (const early of node.early ?? []) node.out.push(early);
            node.early = undefined;
            break;
          case 'listening':
            node.listening = true;
            pids();
            core.config.proxy.port = m.port;
            core.setupInfo.proxyPort = m.port;
            // Begun as the first worker listens, before any of its flows can arrive (they come after this on its
            // channel), as one process begins it: a start that fails to listen leaves no empty session behind.
            session ??= core.store.sessions.begin(opts.session);
            up.resolve();
            break;
          case 'failed':
            up.reject(m.usage ? new UsageError(m.message) : new Error(m.message));
            worker.kill();
            break;
          case 'start':
            node.started.set(m.key, m.request);
            break;
          case 'commit':
            if (m.key !== undefined) node.started.delete(m.key);
            store(node, m.ref, core.writer.commit(m.draft));
            break;
          case 'update':
            store(node, m.ref, Promise.resolve(core.writer.update(m.flow)));
            break;
          case 'tls-error':
            core.tlsFailed(m.failure);
            break;
          case 'touched':
            core.rules.touched(m.rule);
            break;
          case 'pong':
            break;
        }
      }
    });
    worker.on('exit', (code, signal) => {
      nodes.delete(node);
      pids();
      for (const request of node.started.values()) interrupted(request);
      node.started.clear();
      node.open.forEach(cut);
      up.reject(new Error(`a proxy worker exited before it listened (${signal ?? `code ${code}`})`));
      exited();
      if (stopping || !node.listening) return;
      log.warn({ pid: worker.process.pid, code, signal }, 'a proxy worker died; starting another');
      const replace = () => {
        if (!stopping) fork().up.catch((err: Error) => log.error({ err: err.message }, 'a proxy worker could not be started again'));
      };
      if (Date.now() - node.since < STEADY_MS) setTimeout(replace, RESTART_DELAY_MS).unref();
      else replace();
    });
    return node;
  }

  const stopAll = async (grace: number) => {
    stopping = true;
    stopWatch();
    await Promise.all(
      [...nodes].map((node) => {
        tell(node, { t: 'stop' });
        // A worker that cannot finish its flows in its grace and a margin is ended: its exchanges are recorded here.
        const late = setTimeout(() => node.worker.process.kill('SIGKILL'), grace + 20_000);
        return node.exited.finally(() => clearTimeout(late));
      }),
    );
    while (pending.size) await Promise.all([...pending]);
  };

  // Judged only while it serves: a worker still loading its code has the start's bounds, one finishing at the
  // stop has stopAll's (which ends this watch).
  const hungMs = opts.hungWorkerMs ?? HUNG_WORKER_MS;
  const stopWatch = watchHeartbeats(
    () => [...nodes].filter((n) => n.listening),
    hungMs,
    (node) => tell(node, { t: 'ping' }),
    (node) => {
      log.error({ pid: node.worker.process.pid, silentMs: hungMs }, 'a proxy worker stopped answering; ending it and starting another');
      node.worker.process.kill('SIGKILL');
    },
  );

  const first = Array.from({ length: count }, fork);
  try {
    await Promise.all(first.map((n) => n.up));
  } catch (err) {
    await stopAll(0);
    await core.close();
    throw err;
  }

  let closed: Promise<void> | undefined;
  return {
    ...addresses(core),
    proxyPort: core.config.proxy.port,
    // The other entrances need one process (refused at start): there is nothing to hand a connection to.
    interceptConnection: (socket) => socket.destroy(),
    session: session!,
    entrances: NO_ENTRANCES,
    workerPids: () => [...(core.config.workers ?? [])],
    close() {
      closed ??= (async () => {
        await core.android.undoAll();
        await stopAll(opts.stopGrace ?? 5_000);
        await core.close();
      })();
      return closed;
    },
  };
}

const NO_ENTRANCES: Entrances = { listeners: [], peerName: () => undefined, close: async () => undefined };
