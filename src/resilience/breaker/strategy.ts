/**
 * When a closed circuit opens. A strategy is pure: it keeps its memory of recent outcomes in a
 * JSON-serialisable `window` value that lives in the breaker's snapshot, so the state can be
 * saved, restored, or (later) kept in a shared store.
 */
export interface BreakerStrategy<W = unknown> {
  /** Stored in snapshots, so a snapshot is not restored into a different kind of breaker. */
  readonly name: string;
  /** The memory of a freshly closed circuit. */
  initial(): W;
  /** Record one outcome while closed; `open` says whether the circuit must open now. */
  record(window: W, success: boolean, now: number): { window: W; open: boolean };
  /** True when `window` has the shape this strategy keeps (checked when restoring a snapshot). */
  isWindow(window: unknown): window is W;
}
