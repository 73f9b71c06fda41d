/**
 * The dev/test-only `local` protocol handler (echo, transform, error; no I/O). Production
 * contracts refuse it; `onex-runtime-host dev` and tests use it.
 */
export { LocalHandler, LOCAL_OPERATIONS, type LocalHandlerOptions } from './local-handler.js';
