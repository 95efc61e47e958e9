// An HTTP forward proxy nobody here wrote (npm "proxy", TooTallNate's "think Squid"), with its stock options, on
// 127.0.0.1: what a vendor's client sits behind when HTTPS_PROXY names a corporate proxy. Its first line of output
// is its origin (http://127.0.0.1:PORT); then one JSON line per request it carries, so a test can tell which of
// the suite's connections went through it: {"method": "CONNECT", "target": "127.0.0.1:8443"} for a tunnel,
// {"method": "GET", "target": "http://127.0.0.1:8080/api/v2/me"} for a forwarded plain request.
import dns from 'node:dns';
import * as http from 'node:http';
import { createProxy } from 'proxy';

// Arguments NAME=ADDRESS: names this proxy resolves and its clients cannot (a corporate proxy's view of an
// internal network), so that a client that bypasses the proxy cannot reach those hosts at all.
const names = new Map(process.argv.slice(2).map((argument) => argument.split('=')));
const systemLookup = dns.lookup;
dns.lookup = (hostname, options, callback) => {
  const address = names.get(hostname);
  if (address === undefined) return systemLookup(hostname, options, callback);
  const done = typeof options === 'function' ? options : callback;
  const all = typeof options === 'object' && options !== null && options.all;
  process.nextTick(() => (all ? done(null, [{ address, family: 4 }]) : done(null, address, 4)));
};

const server = createProxy(http.createServer());
const log = (method, target) => process.stdout.write(JSON.stringify({ method, target }) + '\n');
// The proxy's own listeners do the work; these only watch (Node calls every listener of an event).
server.on('connect', (request) => log('CONNECT', request.url));
server.on('request', (request) => log(request.method, request.url));
server.on('upgrade', (request) => log(`${request.method} upgrade`, request.url));
// Ends when its stdin closes: a killed test run leaves no proxy behind.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`http://127.0.0.1:${server.address().port}\n`);
});
