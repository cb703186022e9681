// harness.js runs operations of BeeCloud's Node.js SDK (beecloud-node-sdk,
// unmodified) and prints, as one JSON object, what each got back.
//
//   BEECLOUD_SANDBOX_URL=http://127.0.0.1:PORT node -r ./redirect.js harness.js < plan.json
//
// plan.json: {"app": {"id", "secret", "master", "test"}, "ops": [{"name",
// "fn", "sandbox", "param"}]}. Each operation calls api[fn](param) on a
// new BCRESTApi registered with the app's credentials: the SDK keeps every
// call's fields for the next one (Object.assign onto its own data), so one
// shared instance would filter a query by the previous call's bill_no. The
// SDK signs with the caller's timestamp and adds none: the harness adds
// Date.now().
//
// Output: {name: {"answer": <the SDK's resolved value>, "requests":
// [{method, host, path}]}} or {name: {"error": "…", "requests": […]}} when
// the SDK threw (a non-JSON answer crashes it) or gave no answer in 10 s.
'use strict';
const BCRESTApi = require('beecloud-node-sdk');

const OP_TIMEOUT_MS = 10000;

let current = null; // the operation running, for uncaught exceptions

process.on('uncaughtException', (err) => {
  if (current) {
    current.fail(err);
    return;
  }
  throw err;
});

function run(plan, op) {
  return new Promise((resolve) => {
    const before = globalThis.beecloudRequests.length;
    const requests = () => globalThis.beecloudRequests.slice(before);
    let done = false;
    const finish = (result) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      current = null;
      result.requests = requests();
      resolve(result);
    };
    const timer = setTimeout(() => finish({ error: `no answer in ${OP_TIMEOUT_MS} ms` }), OP_TIMEOUT_MS);
    current = { fail: (err) => finish({ error: `the SDK threw: ${err && err.message ? err.message : err}` }) };
    try {
      const api = new BCRESTApi();
      api.registerApp(plan.app.id, plan.app.secret, plan.app.master, plan.app.test);
      api.setSandbox(Boolean(op.sandbox));
      const param = Object.assign({ timestamp: Date.now() }, op.param || {});
      api[op.fn](param).then(
        (answer) => finish({ answer }),
        (err) => current && current.fail(err),
      );
    } catch (err) {
      current.fail(err);
    }
  });
}

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const plan = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const out = {};
  for (const op of plan.ops) {
    if (typeof BCRESTApi.prototype[op.fn] !== 'function') {
      out[op.name] = { error: `the SDK has no function ${op.fn}`, requests: [] };
      continue;
    }
    out[op.name] = await run(plan, op);
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((err) => {
  process.stderr.write(`harness: ${err.stack || err}\n`);
  process.exit(1);
});
