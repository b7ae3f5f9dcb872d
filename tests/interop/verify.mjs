// Verify OB 3.0 credentials (eddsa-rdfc-2022 Data Integrity proofs) with the Digital Bazaar
// stack, offline: contexts from openbadges/contexts, did:key locally, did:web only from a
// loopback HTTP server.
//
//   node verify.mjs [--did-web-base-url http://127.0.0.1:8123] cred1.json [cred2.json ...]
//   (or DID_WEB_BASE_URL=http://127.0.0.1:8123 node verify.mjs ...)
//
// Prints one JSON line per credential {file, verified, error?, status?}; exits 1 if any fails.
// credentialStatus is not dereferenced (no network); such lines carry status:"not-checked".
import {readFileSync} from 'node:fs';
import {parseArgs} from 'node:util';
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {makeDocumentLoader} from './loader.mjs';

const {values: args, positionals: files} = parseArgs({
  allowPositionals: true,
  options: {'did-web-base-url': {type: 'string'}, now: {type: 'string'}}
});
if(files.length === 0) {
  console.error('usage: node verify.mjs [--did-web-base-url URL] [--now ISO] FILE...');
  process.exit(2);
}
const didWebBaseUrl = args['did-web-base-url'] || process.env.DID_WEB_BASE_URL || undefined;
const documentLoader = makeDocumentLoader({didWebBaseUrl});

function firstError(result) {
  const errors = [];
  const collect = error => {
    if(!error) {
      return;
    }
    if(Array.isArray(error)) {
      error.forEach(collect);
      return;
    }
    if(error.errors) {
      collect(error.errors);
    }
    errors.push(error.message || String(error));
  };
  collect(result.error);
  for(const r of result.results || []) {
    collect(r.error);
  }
  return errors.length ? [...new Set(errors)].join('; ') : 'not verified';
}

let failures = 0;
for(const file of files) {
  const line = {file};
  try {
    const credential = JSON.parse(readFileSync(file, 'utf8'));
    const options = {
      credential,
      suite: new DataIntegrityProof({cryptosuite}),
      documentLoader
    };
    if(args.now) {
      options.now = new Date(args.now);
    }
    if(credential.credentialStatus) {
      line.status = 'not-checked';
      options.checkStatus = async () => ({verified: true});
    }
    const result = await vc.verifyCredential(options);
    line.verified = result.verified === true;
    if(!line.verified) {
      line.error = firstError(result);
    }
  } catch(error) {
    line.verified = false;
    line.error = error.message || String(error);
  }
  if(!line.verified) {
    failures += 1;
  }
  console.log(JSON.stringify(line));
}
process.exit(failures ? 1 : 0);
