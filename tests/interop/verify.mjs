// Verify OB 3.0 credentials (eddsa-rdfc-2022 Data Integrity proofs) with the Digital Bazaar
// stack, offline: contexts from openbadges/contexts, did:key locally, did:web only from a
// loopback HTTP server.
//
//   node verify.mjs [--did-web-base-url http://127.0.0.1:8123] cred1.json [cred2.json ...]
//   (or DID_WEB_BASE_URL=http://127.0.0.1:8123 node verify.mjs ...)
//
// Prints one JSON line per credential {file, verified, error?, status?}; exits 1 if any fails.
// A BitstringStatusListEntry in credentialStatus is checked with Digital Bazaar's
// @digitalbazaar/vc-bitstring-status-list: the list credential is fetched (loopback http
// only), its proof verified, its issuer matched, and the bit read; status is "valid",
// "revoked" or "suspended" (a set bit fails the credential). --check-suspension also fetches
// <credential id>/status (Insignia's list of the credential's revocation AND suspension
// entries; a credential carries one of them: the suspension entry, whose bit is also set
// once revoked, or the revocation entry in credentials signed before) and checks both.
// A list that is not on a loopback host cannot be fetched offline: the line then says
// status:"not-checked" (and fails with --require-status).
import {readFileSync} from 'node:fs';
import {parseArgs} from 'node:util';
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {checkStatus as checkBitstringStatus} from '@digitalbazaar/vc-bitstring-status-list';
import {fetchLoopbackJson, makeDocumentLoader} from './loader.mjs';

const {values: args, positionals: files} = parseArgs({
  allowPositionals: true,
  options: {
    'did-web-base-url': {type: 'string'},
    now: {type: 'string'},
    'check-suspension': {type: 'boolean'},
    'require-status': {type: 'boolean'}
  }
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
  collect(result.statusResult && result.statusResult.error);
  for(const r of result.results || []) {
    collect(r.error);
  }
  return errors.length ? [...new Set(errors)].join('; ') : 'not verified';
}

const PURPOSE_STATE = {revocation: 'revoked', suspension: 'suspended'};

// Bitstring Status List v1.0 §3.2: the library verifies the list credential and returns the
// bit of every BitstringStatusListEntry; a set bit means the credential is not valid.
function onLoopback(url) {
  try {
    const {protocol, hostname} = new URL(url);
    return protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(hostname);
  } catch {
    return false;
  }
}

async function checkStatus(credential, line) {
  const entries = [credential.credentialStatus].flat();
  if(!entries.every(entry => onLoopback(entry.statusListCredential))) {
    line.status = 'not-checked';
    return args['require-status'] ?
      {verified: false, error: new Error('status list not reachable offline')} :
      {verified: true};
  }
  let checked = credential;
  if(args['check-suspension']) {
    const entries = await fetchLoopbackJson(`${credential.id}/status`);
    checked = {...credential, credentialStatus: entries.credentialStatus};
  }
  const result = await checkBitstringStatus({
    credential: checked,
    documentLoader,
    suite: new DataIntegrityProof({cryptosuite}),
    verifyBitstringStatusListCredential: true,
    verifyMatchingIssuers: true
  });
  if(!result.verified) {
    line.status = 'unknown';
    return result;
  }
  const set = result.results.filter(r => r.status === true).map(
    r => PURPOSE_STATE[r.credentialStatus.statusPurpose] ||
      r.credentialStatus.statusPurpose);
  line.status = set.length ? set.join(',') : 'valid';
  if(set.length) {
    return {verified: false, error: new Error(`credential status: ${line.status}`)};
  }
  return {verified: true};
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
      options.checkStatus = async () => checkStatus(credential, line);
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
