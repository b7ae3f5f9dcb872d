// Benchmark: sign the same unsigned credential N times with the Digital Bazaar stack
// (@digitalbazaar/vc issue + DataIntegrityProof + eddsa-rdfc-2022), fully offline.
//
//   node sign.mjs --credential unsigned.json --seed-hex <64 hex> \
//        --verification-method did:key:z6Mk...#z6Mk... [--n 500] [--warmup 50] [--out signed.json]
//
// Prints one JSON line {bench:"sign", impl:"node-digitalbazaar", n, per_sec, ...}.
import {readFileSync, writeFileSync} from 'node:fs';
import {parseArgs} from 'node:util';
import os from 'node:os';
import * as vc from '@digitalbazaar/vc';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {makeDocumentLoader} from './loader.mjs';

const {values: args} = parseArgs({options: {
  credential: {type: 'string'},
  'seed-hex': {type: 'string'},
  'verification-method': {type: 'string'},
  n: {type: 'string', default: '500'},
  warmup: {type: 'string', default: '50'},
  out: {type: 'string'}
}});
if(!args.credential || !args['seed-hex'] || !args['verification-method']) {
  console.error('usage: node sign.mjs --credential FILE --seed-hex HEX ' +
    '--verification-method URL [--n N] [--warmup N] [--out FILE]');
  process.exit(2);
}

const credential = JSON.parse(readFileSync(args.credential, 'utf8'));
const seed = Uint8Array.from(Buffer.from(args['seed-hex'], 'hex'));
const keyPair = await Ed25519Multikey.generate({seed});
const signer = keyPair.signer();
signer.id = args['verification-method'];
const documentLoader = makeDocumentLoader();

async function signOnce() {
  const suite = new DataIntegrityProof({signer, cryptosuite});
  return vc.issue({credential: structuredClone(credential), suite, documentLoader});
}

const n = Number(args.n);
let signed;
for(let i = 0; i < Number(args.warmup); ++i) {
  signed = await signOnce();
}
const start = process.hrtime.bigint();
for(let i = 0; i < n; ++i) {
  signed = await signOnce();
}
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
if(args.out) {
  writeFileSync(args.out, JSON.stringify(signed, null, 2));
}
const pkg = name => JSON.parse(readFileSync(
  new URL(`./node_modules/${name}/package.json`, import.meta.url), 'utf8')).version;
console.log(JSON.stringify({
  bench: 'sign',
  impl: 'node-digitalbazaar',
  n,
  seconds: Number(seconds.toFixed(4)),
  per_sec: Number((n / seconds).toFixed(1)),
  node: process.version,
  packages: Object.fromEntries([
    '@digitalbazaar/vc', '@digitalbazaar/data-integrity',
    '@digitalbazaar/eddsa-rdfc-2022-cryptosuite', '@digitalbazaar/ed25519-multikey',
    'jsonld', 'rdf-canonize'
  ].map(name => [name, pkg(name)])),
  cpus: os.cpus().length,
  cpu_model: os.cpus()[0]?.model
}));
