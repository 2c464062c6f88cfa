// A worker whose event loop is stuck (a runaway loop on hostile input, say) keeps its phones' connections and
// answers none of them, and nothing else would notice: it is neither dead nor slow to exit. The primary asks
// each worker for a sign of life every so often and takes one silent for too long as hung.

/** What the watch needs of a worker. */
export interface Watched {
  /** when the primary last heard anything from it (any message counts) */
  heard: number;
}

/**
 * Pings `nodes()` every quarter of `hungMs` (at most every 2.5 s) and calls `onHung` for one not heard from in
 * `hungMs`. Returns the function that stops the watch.
 */
export function watchHeartbeats<T extends Watched>(nodes: () => Iterable<T>, hungMs: number, ping: (node: T) => void, onHung: (node: T) => void): () => void {
  const every = Math.max(50, Math.min(2_500, hungMs / 4));
  let last = Date.now();
  const timer = setInterval(() => {
    const now = Date.now();
    // This process itself was held up (a long pause, a SIGSTOP): the workers' answers may sit unread in its
    // channels, so only ask this time and judge at the next tick, once they are read.
    const heldUp = now - last > every * 2;
    last = now;
    for (const node of nodes()) {
      if (!heldUp && now - node.heard > hungMs) {
        node.heard = now;
        onHung(node);
      } else ping(node);
    }
  }, every);
  timer.unref();
  return () => clearInterval(timer);
}
