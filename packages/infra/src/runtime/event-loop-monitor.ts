/**
 * Liveness: is the process loop responsive? A tick is scheduled every `intervalMs`; the
 * delay is how late the last tick ran, or how overdue the next one is now. A loop blocked
 * outright cannot answer `/health/live` at all (the probe times out, which a supervisor
 * reads as dead too); this catches the loop that answers, but only after seconds of delay,
 * or that ran a multi-second block since the last probe.
 */
import type { Scheduler, TimerHandle } from './scheduler.js';

export interface EventLoopMonitorOptions {
  readonly scheduler: Scheduler;
  /** How often the loop is sampled. @default 500 */
  readonly intervalMs?: number;
  /** A delay beyond this makes the process not live. @default 5000 */
  readonly maxDelayMs?: number;
}

/** The liveness verdict of the loop. */
export interface LoopResponsiveness {
  readonly responsive: boolean;
  /** How late the loop is, in ms (0 when on time). */
  readonly delayMs: number;
  readonly maxDelayMs: number;
}

/** Defaults of {@link EventLoopMonitorOptions}. */
export const EVENT_LOOP_MONITOR_DEFAULTS = { intervalMs: 500, maxDelayMs: 5_000 } as const;

export class EventLoopMonitor {
  readonly #scheduler: Scheduler;
  readonly #intervalMs: number;
  readonly #maxDelayMs: number;
  #timer: TimerHandle | undefined;
  #lastTickAt = 0;
  #lastDelayMs = 0;

  constructor(options: EventLoopMonitorOptions) {
    this.#scheduler = options.scheduler;
    this.#intervalMs = options.intervalMs ?? EVENT_LOOP_MONITOR_DEFAULTS.intervalMs;
    this.#maxDelayMs = options.maxDelayMs ?? EVENT_LOOP_MONITOR_DEFAULTS.maxDelayMs;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#lastTickAt = this.#scheduler.now();
    this.#lastDelayMs = 0;
    this.#timer = this.#scheduler.setInterval(() => this.#tick(), this.#intervalMs);
  }

  stop(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  #tick(): void {
    const now = this.#scheduler.now();
    this.#lastDelayMs = Math.max(0, now - this.#lastTickAt - this.#intervalMs);
    this.#lastTickAt = now;
  }

  /** The verdict now; always responsive while not started. */
  check(): LoopResponsiveness {
    if (this.#timer === undefined) return { responsive: true, delayMs: 0, maxDelayMs: this.#maxDelayMs };
    const overdue = Math.max(0, this.#scheduler.now() - this.#lastTickAt - this.#intervalMs);
    const delayMs = Math.max(this.#lastDelayMs, overdue);
    return { responsive: delayMs <= this.#maxDelayMs, delayMs, maxDelayMs: this.#maxDelayMs };
  }
}
