// What the primary (hub.ts) and its proxy workers (proxy-node.ts) say to each other over cluster IPC, with V8
// serialization (Buffers and Maps pass as they are). Messages of one event-loop turn go as one array: a worker
// under load finishes dozens of flows a turn, and one IPC write each would cost more than the flows' own copy.
import type { Identifiers } from '../../shared/identifiers';
import type { Rule, Rules } from '../../shared/rules';
import type { Flow } from '../../shared/types';
import type { CapturedRequest } from '../capture/forward';
import type { OwnListener } from '../capture/target-guard';
import type { TlsFailure } from '../capture/tls-failures';
import type { SetupInfo } from '../server/setup-page';
import type { StartOptions } from '../app';

/** Everything a worker needs to capture as the primary would: its options and the settings in force. */
export interface WorkerInit {
  opts: StartOptions;
  identifiers: Identifiers;
  rules: Rules;
  deviceNames: [client: string, name: string][];
  /** the dashboard's listener, kept from clients by the target guard */
  listeners: OwnListener[];
  setupInfo: SetupInfo;
}

export type FromWorker =
  | { t: 'hello' }
  | { t: 'listening'; port: number }
  /** the proxy could not listen: the line to print, and whether it is the tester's doing (exit 2) */
  | { t: 'failed'; message: string; usage: boolean }
  /** an exchange the worker began: recorded as interrupted by the primary should the worker die before its commit */
  | { t: 'start'; key: number; request: CapturedRequest }
  /** `key`: the exchange's start, when it had one (a WebSocket's or a tunnel's flow has none) */
  | { t: 'commit'; ref: number; key?: number; draft: Omit<Flow, 'id'> }
  | { t: 'update'; ref: number; flow: Flow }
  | { t: 'tls-error'; failure: TlsFailure }
  | { t: 'touched'; rule: Rule }
  /** the answer to a ping: the worker's event loop turns */
  | { t: 'pong' };

export type ToWorker =
  | { t: 'init'; init: WorkerInit }
  /** the flow of `ref` is stored (its local id), or could not be */
  | { t: 'stored'; ref: number; id?: number; error?: string }
  | { t: 'identifiers'; identifiers: Identifiers }
  | { t: 'rules'; rules: Rules }
  | { t: 'device-name'; client: string; name: string }
  /** a sign of life asked for (see heartbeat.ts) */
  | { t: 'ping' }
  | { t: 'stop' };

/** Sends messages batched per event-loop turn through `send` (process.send or worker.send). */
export class Batcher<M> {
  private queue: M[] = [];
  private flushing = false;

  constructor(private readonly send: (batch: M[], sent?: () => void) => void) {}

  push(message: M): void {
    this.queue.push(message);
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => this.flush());
  }

  /** Sends what is queued now; `sent` once it is written (before an exit, say). */
  flush(sent?: () => void): void {
    this.flushing = false;
    if (this.queue.length === 0) return void sent?.();
    const batch = this.queue;
    this.queue = [];
    this.send(batch, sent);
  }
}
