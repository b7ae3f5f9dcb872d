// A Learner Credential Wallet stand-in built on Digital Bazaar's libraries, offline.
//
// It does what the LCW does with a VC-API exchange (learner-credential-wallet
// app/lib/exchanges.ts): POST {} to the exchange URL, read the Verifiable Presentation Request,
// make a DIDAuth presentation for a fresh did:key with @digitalbazaar/vc signPresentation
// (holder = the DID, proofPurpose authentication, the request's challenge and domain), POST
// {verifiablePresentation} to the request's interact service, and take the credential out of
// the answer's verifiablePresentation.
//
//   node wallet.mjs EXCHANGE_URL [--suite ed25519-2020|eddsa-rdfc-2022] [--vc-version 1|2]
//                   [--out CREDENTIAL.json] [--presentation-out VP.json] [--variants-out FILE]
//
// --variants-out: sign, but do not send; write {good, wrongChallenge, wrongDomain, tampered,
// holderMismatch, assertionPurpose} presentations for the caller to send.
// Prints one JSON line: {holder, request, status, response}. Exit 0 on a credential, 1 otherwise.
// Packages come from tests/interop (its package.json and lock); contexts from
// openbadges/contexts through tests/interop/loader.mjs. Only loopback URLs are contacted.
import {randomBytes} from 'node:crypto';
import {writeFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {pathToFileURL} from 'node:url';
import {parseArgs} from 'node:util';
import {makeDocumentLoader} from '../../interop/loader.mjs';

const interop = createRequire(new URL('../../interop/package.json', import.meta.url));
const load = name => import(pathToFileURL(interop.resolve(name)).href);
const vc = await load('@digitalbazaar/vc');
const {Ed25519Signature2020} = await load('@digitalbazaar/ed25519-signature-2020');
const {Ed25519VerificationKey2020} = await load(
  '@digitalbazaar/ed25519-verification-key-2020');
const {DataIntegrityProof} = await load('@digitalbazaar/data-integrity');
const {cryptosuite: eddsaRdfc2022} = await load('@digitalbazaar/eddsa-rdfc-2022-cryptosuite');
const Ed25519Multikey = await load('@digitalbazaar/ed25519-multikey');
const jsigs = (await load('jsonld-signatures')).default;

const {values: args, positionals} = parseArgs({
  allowPositionals: true,
  options: {
    suite: {type: 'string', default: 'ed25519-2020'},
    'vc-version': {type: 'string', default: '1'},
    out: {type: 'string'},
    'presentation-out': {type: 'string'},
    'variants-out': {type: 'string'}
  }
});
const [exchangeUrl] = positionals;
if(!exchangeUrl || !['127.0.0.1', 'localhost'].includes(new URL(exchangeUrl).hostname)) {
  console.error('usage: node wallet.mjs http://127.0.0.1:PORT/…/exchanges/ID [options]');
  process.exit(2);
}
const documentLoader = makeDocumentLoader();
const version = args['vc-version'] === '2' ? 2.0 : 1.0;

async function post(url, body) {
  const response = await fetch(url, {
    method: 'POST', redirect: 'error',
    headers: {'content-type': 'application/json', accept: 'application/json'},
    body: JSON.stringify(body)
  });
  return {status: response.status, body: await response.json()};
}

// A wallet key: a did:key whose fragment repeats the key, as the LCW's DID documents do.
async function newSuite(kind) {
  const seed = randomBytes(32);
  if(kind === 'eddsa-rdfc-2022') {
    const {publicKeyMultibase} = await Ed25519Multikey.generate({seed});
    const did = `did:key:${publicKeyMultibase}`;
    // The signer names its key by the id given here: did:key:z…#z…
    const key = await Ed25519Multikey.generate({seed, controller: did});
    return {did, suite: new DataIntegrityProof({signer: key.signer(), cryptosuite: eddsaRdfc2022})};
  }
  const key = await Ed25519VerificationKey2020.generate({seed});
  const did = `did:key:${key.fingerprint()}`;
  key.controller = did;
  key.id = `${did}#${key.fingerprint()}`;
  return {did, suite: new Ed25519Signature2020({key})};
}

async function didAuth({did, suite}, {challenge, domain, holder = did, purpose}) {
  const presentation = vc.createPresentation({holder, version});
  return vc.signPresentation({presentation, suite, challenge, domain, purpose, documentLoader});
}

const started = await post(exchangeUrl, {});
const request = started.body.verifiablePresentationRequest;
const line = {status: started.status, request: started.body};
if(!request) {
  console.log(JSON.stringify(line));
  process.exit(1);
}
const queries = [request.query].flat();
if(!queries.some(q => q.type === 'DIDAuthentication')) {
  throw new Error(`not a DIDAuthentication request: ${JSON.stringify(request.query)}`);
}
const {challenge, domain} = request;
const wallet = await newSuite(args.suite);
line.holder = wallet.did;
const presentation = await didAuth(wallet, {challenge, domain});
if(args['presentation-out']) {
  writeFileSync(args['presentation-out'], JSON.stringify(presentation));
}

if(args['variants-out']) {
  const other = await newSuite(args.suite);
  const tampered = structuredClone(presentation);
  tampered.holder = other.did;  // signed as one DID, then edited to claim another
  const variants = {
    good: presentation,
    wrongChallenge: await didAuth(wallet, {challenge: `${challenge}x`, domain}),
    wrongDomain: await didAuth(wallet, {challenge, domain: 'https://evil.example'}),
    tampered,
    holderMismatch: await didAuth(wallet, {challenge, domain, holder: other.did}),
    assertionPurpose: await didAuth(wallet, {
      challenge, domain,
      purpose: new jsigs.purposes.AssertionProofPurpose()
    })
  };
  writeFileSync(args['variants-out'], JSON.stringify(variants));
  console.log(JSON.stringify(line));
  process.exit(0);
}

// The LCW posts to the request's interact service when there is one, else the exchange URL.
const target = request.interact?.service?.[0]?.serviceEndpoint ?? exchangeUrl;
const answer = await post(target, {verifiablePresentation: presentation});
line.status = answer.status;
line.response = answer.body;
const credentials = answer.body?.verifiablePresentation?.verifiableCredential;
if(!Array.isArray(credentials) || credentials.length === 0) {
  console.log(JSON.stringify(line));
  process.exit(1);
}
if(args.out) {
  writeFileSync(args.out, JSON.stringify(credentials[0]));
}
console.log(JSON.stringify(line));
