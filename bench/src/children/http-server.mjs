/**
 * A tiny keep-alive HTTP server for the http handler benchmark, run as a child process
 * so that serving requests does not share the event loop being measured. Prints
 * `{"port": N}` on stdout once listening; exits when its parent disconnects.
 */
import { createServer } from 'node:http';

const body = Buffer.from(JSON.stringify({ ok: true, n: 1 }));
const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
});
process.on('disconnect', () => server.close(() => process.exit(0)));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
