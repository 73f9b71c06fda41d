/**
 * Why the ingress could not listen, as a typed start-up error. A port in use, a privileged
 * port or an address that is not this machine's is the environment, not a bug: the error
 * names the address and the setting to change instead of "unexpected failure".
 */
import { IngressListenFailedError } from '@onex/core';

/** The settings that choose the ingress's address, named in every hint. */
const SETTINGS = 'Change runtime.ingress.port (or runtime.ingress.host) in the runtime host contract, or set ONEX_INGRESS_PORT for this run (0 picks a free port).';

/**
 * The typed error for a failed `listen` on `host:port`, or undefined when the failure is
 * not one a setting fixes (it then goes through `toOnexError` like any other).
 */
export function ingressListenError(error: unknown, host: string, port: number): IngressListenFailedError | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const options = { cause: error, details: { reason: String(code), host, port } };
  switch (code) {
    case 'EADDRINUSE':
      return new IngressListenFailedError(`The ingress cannot listen on ${address}: the port is already in use (another onex-runtime-host, or another program)`, {
        ...options,
        hint: `Stop the process that holds port ${port}, or choose another port. ${SETTINGS}`,
      });
    case 'EACCES':
      return new IngressListenFailedError(`The ingress cannot listen on ${address}: permission denied (ports below 1024 need privileges)`, {
        ...options,
        hint: `Use a port of 1024 or above and let a reverse proxy or the platform's load balancer take the low one. ${SETTINGS}`,
      });
    case 'EADDRNOTAVAIL':
      return new IngressListenFailedError(`The ingress cannot listen on ${address}: ${host} is not an address of this machine`, {
        ...options,
        hint: `Set runtime.ingress.host to an address of this machine (127.0.0.1 for loopback). ${SETTINGS}`,
      });
    default:
      return undefined;
  }
}
