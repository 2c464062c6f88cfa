// A LISTEN connection to a lab's shared store that stays up: a lost one is replaced every RELISTEN_MS, and each
// (re)connection calls `onNotification` once with no channel, for what was sent while no one listened. Who uses
// it keeps its own poll for the time it is down (`listening`).
import pg from 'pg';

const RELISTEN_MS = 2000;

export class PgListener {
  private client: pg.Client | undefined;
  private closed = false;
  /** whether notifications arrive now */
  listening = false;

  constructor(
    private readonly url: string,
    private readonly channels: string[],
    /** a notification on `channel` with its payload; `undefined` after a (re)connection */
    private readonly onNotification: (channel?: string, payload?: string) => void,
  ) {}

  start(): void {
    void this.listen();
  }

  private async listen(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 5_000 });
    const again = () => {
      if (this.client !== client) return;
      this.client = undefined;
      this.listening = false;
      client.end().catch(() => undefined);
      setTimeout(() => void this.listen(), RELISTEN_MS).unref();
    };
    this.client = client;
    client.on('error', again);
    client.on('end', again);
    client.on('notification', (n) => this.onNotification(n.channel, n.payload));
    try {
      await client.connect();
      for (const channel of this.channels) await client.query(`LISTEN ${channel}`);
      this.listening = true;
      this.onNotification();
    } catch {
      again();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = undefined;
    this.listening = false;
    await client?.end().catch(() => undefined);
  }
}
