/**
 * Exit codes of `onex-runtime-host`, documented in the app README. Scripts and
 * supervisors can tell "fix the contract" from "fix the environment".
 */
export const EXIT = {
  /** Done; or stopped by SIGINT/SIGTERM after a clean drain. */
  OK: 0,
  /** A contract is invalid (validation errors were printed). */
  CONTRACT_INVALID: 1,
  /** Bad command line. */
  USAGE: 2,
  /** Start-up failed: incompatible package versions, a handler or the bus could not start, port in use. */
  STARTUP_FAILED: 3,
  /** Refused by policy: `dev` with ENVIRONMENT=prod; an ingress on a non-loopback address without auth tokens. */
  REFUSED: 4,
  /** Stopped by a signal but the drain timed out with envelopes still in flight. */
  DRAIN_INCOMPLETE: 5,
  /**
   * A second SIGINT/SIGTERM arrived during the drain: exited at once. Envelopes still in
   * flight were abandoned (a redelivering bus delivers them again; ingress callers get no answer).
   */
  INTERRUPTED: 6,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
