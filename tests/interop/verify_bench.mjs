// Benchmark: Digital Bazaar's whole verifier on Insignia's credentials, offline.
//
//   node verify_bench.mjs --mode cold|warm [--n 300] [--warmup 30] cred1.json [cred2.json ...]
//
// What verify.mjs does for one credential, N times over the given credentials in turn:
// vc.verifyCredential (eddsa-rdfc-2022 Data Integrity proof, the key resolved from the
// issuer's did:web document) with its status check (@digitalbazaar/vc-bitstring-status-list:
// the list credential fetched, its own proof verified, its issuer matched, the bit read).
// Contexts come from openbadges/contexts; did:web documents and status lists from the
// loopback server the credentials name (loader.mjs).
//
// --mode cold: a new document loader for every verification, so every DID document and
// status list is fetched again; --mode warm: one loader that keeps every document it
// loaded, so after the first round nothing is fetched. Every verification must succeed.
// Prints one JSON line {bench:"verify", impl:"node-digitalbazaar", mode, n, per_sec, ...}.
import {readFileSync} from 'node:fs';
import os from 'node:os';
import {parseArgs} from 'node:util';
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';
import {loadBundledContexts, makeDocumentLoader} from './loader.mjs';

const {values: args, positionals: files} = parseArgs({
  allowPositionals: true,
  options: {
    mode: {type: 'string', default: 'warm'},
    n: {type: 'string', default: '300'},
    warmup: {type: 'string', default: '30'}
  }
});
if(files.length === 0 || !['cold', 'warm'].includes(args.mode)) {
  console.error('usage: node verify_bench.mjs --mode cold|warm [--n N] [--warmup N] FILE...');
  process.exit(2);
}
const credentials = files.map(file => JSON.parse(readFileSync(file, 'utf8')));
const contexts = loadBundledContexts();

function keeping(loader) {
  const kept = new Map();
  return async url => {
    if(!kept.has(url)) {
      kept.set(url, await loader(url));
    }
    return kept.get(url);
  };
}

const shared = keeping(makeDocumentLoader({contexts}));
const loader = () => args.mode === 'warm' ? shared : makeDocumentLoader({contexts});

async function verifyOnce(credential) {
  const documentLoader = loader();
  const result = await vc.verifyCredential({
    credential,
    suite: new DataIntegrityProof({cryptosuite}),
    documentLoader,
    checkStatus: async () => {
      const status = await checkStatus({
        credential,
        documentLoader,
        suite: new DataIntegrityProof({cryptosuite}),
        verifyBitstringStatusListCredential: true,
        verifyMatchingIssuers: true
      });
      if(status.verified && status.results.some(r => r.status === true)) {
        return {verified: false, error: new Error('credential status: set')};
      }
      return status;
    }
  });
  if(!result.verified) {
    const reason = JSON.stringify(result.error || result.statusResult || result.results);
    throw new Error(`not verified: ${reason.slice(0, 500)}`);
  }
}

const n = Number(args.n);
for(let i = 0; i < Number(args.warmup); ++i) {
  await verifyOnce(credentials[i % credentials.length]);
}
const timings = [];
const cpuBefore = process.cpuUsage();
const start = process.hrtime.bigint();
for(let i = 0; i < n; ++i) {
  const t0 = process.hrtime.bigint();
  await verifyOnce(credentials[i % credentials.length]);
  timings.push(Number(process.hrtime.bigint() - t0) / 1e6);
}
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
const cpu = process.cpuUsage(cpuBefore);
timings.sort((a, b) => a - b);
const pick = share => timings[Math.min(timings.length - 1, Math.floor(share * timings.length))];
const pkg = name => JSON.parse(readFileSync(
  new URL(`./node_modules/${name}/package.json`, import.meta.url), 'utf8')).version;
console.log(JSON.stringify({
  bench: 'verify',
  impl: 'node-digitalbazaar',
  mode: args.mode,
  n,
  credentials: credentials.length,
  seconds: Number(seconds.toFixed(4)),
  per_sec: Number((n / seconds).toFixed(1)),
  p50_ms: Number(pick(0.5).toFixed(2)),
  p99_ms: Number(pick(0.99).toFixed(2)),
  // This process's CPU only: in cold mode the server answering the fetches spends more.
  cpu_ms_per_verification: Number(((cpu.user + cpu.system) / 1000 / n).toFixed(3)),
  node: process.version,
  packages: Object.fromEntries([
    '@digitalbazaar/vc', '@digitalbazaar/data-integrity',
    '@digitalbazaar/eddsa-rdfc-2022-cryptosuite', '@digitalbazaar/vc-bitstring-status-list',
    'jsonld', 'rdf-canonize'
  ].map(name => [name, pkg(name)])),
  cpus: os.cpus().length
}));
