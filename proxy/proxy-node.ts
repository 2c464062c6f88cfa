// One proxy worker of `start --workers N` (hub.ts is the primary): the capture, detection and rules of the
// flows it is handed, on the port the workers share. Its flows go to the primary over IPC; a response's last
// byte waits, as in one process, until the primary says its flow is stored. It keeps no store of its own.
import path from 'node:path';
import type { Flow } from '../shared/types';
import { ensureCa, LeafMinter } from './certs/authority';
import type { CapturedRequest } from './capture/forward';
import { IdentifiersHolder } from './config/identifiers-holder';
import { UsageError } from './cli/errors';
import { capturePipeline, startProxy } from './instance';
import { log } from './log';
import type { Pipeline } from './pipeline';
import { RulesHolder } from './rules/rules-holder';
import type { FlowWriter } from './store/flow-writer';
import { Batcher, type FromWorker, type ToWorker, type WorkerInit } from './workers/protocol';

/**
 * The flows this worker has sent and the primary has not yet confirmed stored. Each exchange is announced to the
 * primary as it begins (so it can record the exchange as interrupted if this process dies), and its flow's
 * commit names that announcement.
 */
class IpcWriter implements FlowWriter {
  private next = 0;
  private readonly waiting = new Map<number, { resolve: (id: number) => void; reject: (err: Error) => void }>();
  private announced = 0;
  private readonly keys = new WeakMap<CapturedRequest, number>();

  constructor(private readonly out: Batcher<FromWorker>) {}

  announce(request: CapturedRequest): void {
    const key = ++this.announced;
    this.keys.set(request, key);
    this.out.push({ t: 'start', key, request });
  }

  private stored(message: (ref: number) => FromWorker): Promise<number> {
    const ref = ++this.next;
    return new Promise((resolve, reject) => {
      this.waiting.set(ref, { resolve, reject });
      this.out.push(message(ref));
    });
  }

  async commit(draft: Omit<Flow, 'id'>, request?: CapturedRequest): Promise<Flow> {
    const key = request && this.keys.get(request);
    const id = await this.stored((ref) => ({ t: 'commit', ref, key, draft }));
    return { ...draft, id };
  }

  async update(flow: Flow): Promise<Flow> {
    await this.stored((ref) => ({ t: 'update', ref, flow }));
    return flow;
  }

  answered(ref: number, id: number | undefined, error: string | undefined): void {
    const waiter = this.waiting.get(ref);
    this.waiting.delete(ref);
    if (error !== undefined || id === undefined) waiter?.reject(new Error(error ?? 'not stored'));
    else waiter?.resolve(id);
  }
}

/** The pipeline with each exchange announced to the primary as it begins. */
function announcing(pipeline: Pipeline, writer: IpcWriter): Pipeline {
  return {
    ...pipeline,
    inspect(request) {
      writer.announce(request);
      return pipeline.inspect(request);
    },
  };
}

async function capture(init: WorkerInit, out: Batcher<FromWorker>, writer: IpcWriter) {
  const { opts } = init;
  // No files: the primary owns them and sends each edit (identifiers, rules, device names) after saving it.
  const identifiers = new IdentifiersHolder();
  identifiers.set(init.identifiers);
  const rules = new RulesHolder();
  rules.set(init.rules);
  // The dashboard shows the primary's counts: each rule that decided something here is counted there too.
  rules.onTouched((rule) => out.push({ t: 'touched', rule }));
  const names = new Map(init.deviceNames);
  const pipeline = capturePipeline({
    identifiers,
    rules,
    store: writer,
    // The primary publishes each flow once it has stored it.
    publish: () => undefined,
    deviceName: (client) => names.get(client) ?? identifiers.deviceFor(client),
    homeCountry: opts.homeCountry,
  });
  const ca = await ensureCa(path.join(opts.dataDir, 'ca'));
  const minter = await LeafMinter.create(ca);
  const listeners = init.listeners;
  const proxy = await startProxy(opts, {
    ca,
    minter,
    pipeline: announcing(pipeline, writer),
    listeners: () => listeners,
    setupInfo: init.setupInfo,
    onTlsError: (failure) => out.push({ t: 'tls-error', failure }),
  });
  listeners.push({ role: 'proxy', host: opts.proxyHost ?? '0.0.0.0', port: proxy.port });
  init.setupInfo.proxyPort = proxy.port;
  return {
    port: proxy.port,
    settings(message: ToWorker) {
      if (message.t === 'identifiers') identifiers.set(message.identifiers);
      else if (message.t === 'rules') rules.set(message.rules);
      else if (message.t === 'device-name') names.set(message.client, message.name);
    },
    async stop() {
      await proxy.close();
      await pipeline.drain();
    },
  };
}

/** The worker's main: asks the primary for its settings, captures until told to stop. */
export function runWorker(): void {
  const send = process.send!.bind(process);
  const out = new Batcher<FromWorker>((batch, sent) => send(batch, undefined, {}, sent && (() => sent())));
  const writer = new IpcWriter(out);
  let node: Awaited<ReturnType<typeof capture>> | undefined;
  // Ctrl-C reaches the whole process group: the primary decides when its workers stop, and says so.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => undefined);
  // The primary gone (killed): nothing here can be stored any more, and nothing a phone saw complete is lost.
  process.on('disconnect', () => process.exit(1));
  process.on('message', (batch: ToWorker[]) => {
    for (const message of batch) {
      if (message.t === 'stored') writer.answered(message.ref, message.id, message.error);
      else if (message.t === 'ping') out.push({ t: 'pong' });
      else if (message.t === 'init') {
        capture(message.init, out, writer).then(
          (started) => {
            node = started;
            out.push({ t: 'listening', port: started.port });
          },
          (err: Error) => {
            out.push({ t: 'failed', message: err.message, usage: err instanceof UsageError });
            out.flush();
          },
        );
      } else if (message.t === 'stop') {
        void (node?.stop() ?? Promise.resolve()).then(
          // Every flow it had is stored: what is left to send is the last of the log.
          () => out.flush(() => process.exit(0)),
          (err: Error) => log.error({ err: err.message }, 'a worker could not stop cleanly'),
        );
      } else node?.settings(message);
    }
  });
  out.push({ t: 'hello' });
}
