// What React's useSyncExternalStore needs of a store: subscribe, and a version that changes with every change.

export class Observable {
  version = 0;
  private readonly listeners = new Set<() => void>();

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  getVersion = (): number => this.version;

  protected emit(): void {
    this.version++;
    for (const fn of this.listeners) fn();
  }
}
