// Reads inputs.tsv on stdin (see gen_inputs.py) and prints one signature per
// line, computed the way the seed's Node.js sample does:
//   crypto.createHash('md5').update(data, 'utf8').digest('hex')
// Integers go through BigInt so that amounts beyond 2^53 keep every digit.
'use strict';
const crypto = require('crypto');
const fs = require('fs');

const intFields = { order: [2], webhook: [4], legacy: [2] };

const out = [];
for (const line of fs.readFileSync(0, 'utf8').split('\n')) {
  if (line === '') continue;
  const [kind, ...fields] = line.split('\t');
  if (!(kind in intFields)) throw new Error('unknown kind ' + kind);
  let data = '';
  fields.forEach((f, i) => {
    data += intFields[kind].includes(i) ? BigInt(f).toString() : Buffer.from(f, 'hex').toString('utf8');
  });
  out.push(crypto.createHash('md5').update(data, 'utf8').digest('hex'));
}
process.stdout.write(out.join('\n') + '\n');
