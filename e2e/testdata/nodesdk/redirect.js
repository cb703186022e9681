// redirect.js is preloaded (node -r ./redirect.js) before BeeCloud's
// Node.js SDK, which hard-codes https://api.beecloud.cn: it sends the
// SDK's HTTPS requests to BeeCloud's hosts to the sandbox at
// $BEECLOUD_SANDBOX_URL over plain HTTP instead, and refuses any other
// HTTPS request, so nothing leaves the machine. The SDK itself is not
// changed. Each request is recorded in globalThis.beecloudRequests.
'use strict';
const http = require('http');
const https = require('https');

const target = new URL(process.env.BEECLOUD_SANDBOX_URL || '');
if (target.protocol !== 'http:') {
  throw new Error('redirect.js: $BEECLOUD_SANDBOX_URL must be the sandbox\'s http:// URL');
}
const requests = (globalThis.beecloudRequests = []);

function toSandbox(options, callback) {
  if (typeof options === 'string' || options instanceof URL) {
    const u = new URL(options);
    options = { hostname: u.hostname, port: u.port, path: u.pathname + u.search, method: 'GET' };
  }
  const host = options.hostname || String(options.host || '').replace(/:\d+$/, '');
  if (!/(^|\.)beecloud\.cn$/.test(host)) {
    throw new Error(`redirect.js: refusing an HTTPS request to ${host}: only BeeCloud's hosts are sent to the sandbox`);
  }
  requests.push({ method: (options.method || 'GET').toUpperCase(), host, path: options.path });
  const headers = Object.assign({}, options.headers, { host: target.host });
  return http.request({
    protocol: 'http:',
    hostname: target.hostname,
    port: target.port,
    method: options.method,
    path: options.path,
    headers,
  }, callback);
}

https.request = toSandbox;
https.get = (options, callback) => {
  const req = toSandbox(options, callback);
  req.end();
  return req;
};
