// Independent VC-JWT check with panva/jose: for each token file, resolve the header's `kid`
// in the issuer's did:web document (fetched over loopback http from the live test server,
// nothing else), take that method's publicKeyJwk and verify the compact JWS as a JOSE
// relying party would: algorithm EdDSA only, typ vc+jwt, iss equal to the DID that controls
// the key and to the credential's issuer.id, no audience. Prints one JSON line per file;
// exits 1 if any token is refused.
//
//   node verify.mjs --did-web-base-url http://127.0.0.1:PORT token.jwt [...]
import {readFileSync} from 'node:fs';
import {decodeProtectedHeader, importJWK, jwtVerify} from 'jose';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

function didDocumentUrl(did, baseUrl) {
  const parts = did.slice('did:web:'.length).split(':');
  const path = parts.length > 1 ?
    parts.slice(1).map(decodeURIComponent).join('/') + '/did.json' : '.well-known/did.json';
  const url = new URL(`${baseUrl.replace(/\/+$/, '')}/${path}`);
  if(url.protocol !== 'http:' || !LOOPBACK.has(url.hostname)) {
    throw new Error(`refusing to resolve ${did} off loopback: ${url}`);
  }
  return url.href;
}

async function check(token, baseUrl) {
  const header = decodeProtectedHeader(token);
  if(header.alg !== 'EdDSA' || header.typ !== 'vc+jwt') {
    throw new Error(`unexpected header ${JSON.stringify(header)}`);
  }
  if(typeof header.kid !== 'string' || !header.kid.startsWith('did:web:')) {
    throw new Error(`kid is not a did:web DID URL: ${header.kid}`);
  }
  const did = header.kid.split('#')[0];
  const response = await fetch(didDocumentUrl(did, baseUrl), {redirect: 'error'});
  if(!response.ok) {
    throw new Error(`DID document: HTTP ${response.status}`);
  }
  const document = await response.json();
  if(document.id !== did) {
    throw new Error(`DID document id ${document.id} != ${did}`);
  }
  const method = (document.verificationMethod || []).find(m => m.id === header.kid);
  if(!method || !method.publicKeyJwk) {
    throw new Error(`no JWK method ${header.kid} in the DID document`);
  }
  if(method.controller !== did || !(document.assertionMethod || []).includes(header.kid)) {
    throw new Error(`${header.kid} is not an assertion method controlled by ${did}`);
  }
  const key = await importJWK(method.publicKeyJwk, 'EdDSA');
  const {payload} = await jwtVerify(token, key, {
    algorithms: ['EdDSA'], typ: 'vc+jwt', issuer: did, requiredClaims: ['iss', 'jti', 'nbf']
  });
  if(payload.aud !== undefined) {
    throw new Error('the token names an audience');
  }
  const issuerId = typeof payload.issuer === 'object' ? payload.issuer.id : payload.issuer;
  if(issuerId !== payload.iss || payload.jti !== payload.id) {
    throw new Error('iss/jti do not match the credential');
  }
  return {kid: header.kid, iss: payload.iss, jti: payload.jti, type: payload.type};
}

const args = process.argv.slice(2);
const at = args.indexOf('--did-web-base-url');
if(at < 0 || !args[at + 1]) {
  console.error('usage: node verify.mjs --did-web-base-url http://127.0.0.1:PORT file...');
  process.exit(2);
}
const baseUrl = args[at + 1];
const files = args.filter((_, i) => i !== at && i !== at + 1);
let failed = false;
for(const file of files) {
  try {
    const result = await check(readFileSync(file, 'utf8').trim(), baseUrl);
    console.log(JSON.stringify({file, verified: true, ...result}));
  } catch(error) {
    failed = true;
    console.log(JSON.stringify({file, verified: false, error: `${error.code || ''} ${error.message}`.trim()}));
  }
}
process.exit(failed ? 1 : 0);
