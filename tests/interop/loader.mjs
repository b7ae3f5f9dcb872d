// Offline JSON-LD document loader for the interop scripts.
//
// * Contexts come from the same files as the Python package (openbadges/contexts/), checked
//   against the sha256 pins of openbadges/contexts/manifest.json. No context is ever fetched.
// * did:key (Ed25519, z6Mk...) is resolved locally into a DID document with one Multikey.
// * did:web is fetched over plain http ONLY from a loopback host: either the DID's own host
//   when it is 127.0.0.1 / localhost / [::1] (did:web normally means https; we relax that for
//   loopback test servers only), or an explicit loopback base URL given by the caller.
// * Any other http URL on a loopback host (a status list, a credential's status entries) is
//   fetched as JSON — test servers only.
// * Anything else is refused.
import {createHash} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const CONTEXTS_DIR = join(HERE, '..', '..', 'openbadges', 'contexts');

const DID_V1 = 'https://www.w3.org/ns/did/v1';
const MULTIKEY_V1 = 'https://w3id.org/security/multikey/v1';
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

export function loadBundledContexts(dir = CONTEXTS_DIR) {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const contexts = new Map();
  for(const [url, entry] of Object.entries(manifest.contexts)) {
    const raw = readFileSync(join(dir, entry.file));
    const digest = createHash('sha256').update(raw).digest('hex');
    if(digest !== entry.sha256) {
      throw new Error(`bundled context ${url}: sha256 ${digest} != pinned ${entry.sha256}`);
    }
    contexts.set(url, JSON.parse(raw.toString('utf8')));
  }
  return contexts;
}

function didKeyDocument(did) {
  const fingerprint = did.slice('did:key:'.length);
  if(!fingerprint.startsWith('z6Mk')) {
    throw new Error(`unsupported did:key (only Ed25519 z6Mk...): ${did}`);
  }
  const vmId = `${did}#${fingerprint}`;
  return {
    '@context': [DID_V1, MULTIKEY_V1],
    id: did,
    verificationMethod: [{
      id: vmId, type: 'Multikey', controller: did, publicKeyMultibase: fingerprint
    }],
    authentication: [vmId],
    assertionMethod: [vmId]
  };
}

function isLoopbackUrl(url) {
  const {protocol, hostname} = new URL(url);
  return protocol === 'http:' && LOOPBACK.has(hostname);
}

// did:web method spec §3.2 (Read): ':' separates path segments, the host part may carry a
// percent-encoded port (%3A), no path means /.well-known/did.json.
export function didWebUrl(did, baseUrl) {
  const parts = did.slice('did:web:'.length).split(':');
  const host = decodeURIComponent(parts[0]);
  const path = parts.length > 1 ?
    parts.slice(1).map(decodeURIComponent).join('/') + '/did.json' : '.well-known/did.json';
  const base = baseUrl ? baseUrl.replace(/\/+$/, '') : `http://${host}`;
  const url = `${base}/${path}`;
  if(!isLoopbackUrl(url)) {
    throw new Error(`did:web resolution over the network is disabled: ${did} -> ${url}`);
  }
  return url;
}

async function resolveDid(did, {didWebBaseUrl}) {
  if(did.startsWith('did:key:')) {
    return didKeyDocument(did);
  }
  if(did.startsWith('did:web:')) {
    const url = didWebUrl(did, didWebBaseUrl);
    const response = await fetch(url, {redirect: 'error'});
    if(!response.ok) {
      throw new Error(`did:web ${did}: HTTP ${response.status} from ${url}`);
    }
    const doc = await response.json();
    if(doc.id !== did) {
      throw new Error(`did:web ${did}: document id is ${doc.id}`);
    }
    return doc;
  }
  throw new Error(`unsupported DID method: ${did}`);
}

export async function fetchLoopbackJson(url) {
  if(!isLoopbackUrl(url)) {
    throw new Error(`document loader refuses to fetch ${url} (offline, loopback only)`);
  }
  const response = await fetch(url, {
    redirect: 'error', headers: {accept: 'application/vc+ld+json, application/json'}
  });
  if(!response.ok) {
    throw new Error(`HTTP ${response.status} from ${url}`);
  }
  return response.json();
}

export function makeDocumentLoader({didWebBaseUrl, contexts = loadBundledContexts()} = {}) {
  if(didWebBaseUrl && !isLoopbackUrl(didWebBaseUrl)) {
    throw new Error(`did:web base URL must be http on a loopback host: ${didWebBaseUrl}`);
  }
  const fetched = [];
  async function documentLoader(url) {
    if(contexts.has(url)) {
      return {contextUrl: null, documentUrl: url, document: contexts.get(url)};
    }
    if(url.startsWith('did:')) {
      const [did, fragment] = url.split('#');
      const doc = await resolveDid(did, {didWebBaseUrl});
      fetched.push(url);
      if(fragment === undefined) {
        return {contextUrl: null, documentUrl: url, document: doc};
      }
      const vm = (doc.verificationMethod || []).find(
        m => m.id === url || m.id === `#${fragment}`);
      if(!vm) {
        throw new Error(`verification method not found in DID document: ${url}`);
      }
      return {
        contextUrl: null, documentUrl: url,
        document: {'@context': MULTIKEY_V1, ...vm, id: url}
      };
    }
    if(url.startsWith('http://') && isLoopbackUrl(url)) {
      const document = await fetchLoopbackJson(url);
      fetched.push(url);
      return {contextUrl: null, documentUrl: url, document};
    }
    throw new Error(`document loader refuses to fetch ${url} (offline)`);
  }
  documentLoader.fetched = fetched;
  return documentLoader;
}
