// A test wallet: receives a credential by OpenID4VCI 1.0 (pre-authorized code flow) with the
// independent client library @openid4vc/openid4vci, and its own key made here with `jose`.
//
//   node wallet.mjs --offer 'openid-credential-offer://?credential_offer_uri=…' \
//        [--tx-code 123456] [--configuration OpenBadgeCredential_ldp_vc] \
//        [--key ed25519|p256] [--out credential.json]
//
// --key ed25519 binds to a did:key (proof header `kid`), p256 to a bare JWK (header `jwk`).
// Prints one JSON line: {"ok": true, "holder": …, "format": …} or {"ok": false, "error": …}.
// Offline by construction: every request goes through a fetch that refuses any host but
// loopback, and plain http is allowed only because of that (the library demands https).
import { createHash, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";

import { clientAuthenticationAnonymous } from "@openid4vc/oauth2";
import { Openid4vciClient } from "@openid4vc/openid4vci";
import { setGlobalConfig } from "@openid4vc/utils";
import { SignJWT, exportJWK, generateKeyPair } from "jose";

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

function loopbackFetch(input, init) {
  const url = new URL(input instanceof Request ? input.url : String(input));
  if (!LOOPBACK.has(url.hostname)) {
    return Promise.reject(new Error(`refused: ${url.origin} is not a loopback host`));
  }
  return fetch(input, init);
}

const BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

function base58btc(bytes) {
  let value = BigInt("0x" + (Buffer.from(bytes).toString("hex") || "0"));
  let text = "";
  while (value > 0n) {
    text = BASE58[Number(value % 58n)] + text;
    value /= 58n;
  }
  for (const byte of bytes) {
    if (byte !== 0) break;
    text = "1" + text;
  }
  return text;
}

async function makeHolder(kind) {
  if (kind === "p256") {
    const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    return { privateKey, alg: "ES256", signer: { method: "jwk", publicJwk, alg: "ES256" }, publicJwk };
  }
  const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const raw = Buffer.from(publicJwk.x, "base64url");
  const multibase = "z" + base58btc(Buffer.concat([Buffer.from([0xed, 0x01]), raw]));
  const did = `did:key:${multibase}`;
  return {
    privateKey,
    alg: "EdDSA",
    did,
    signer: { method: "did", didUrl: `${did}#${multibase}`, alg: "EdDSA" },
    publicJwk,
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      offer: { type: "string" },
      "tx-code": { type: "string" },
      configuration: { type: "string", default: "OpenBadgeCredential_ldp_vc" },
      key: { type: "string", default: "ed25519" },
      out: { type: "string" },
    },
  });
  setGlobalConfig({ allowInsecureUrls: true });
  const holder = await makeHolder(values.key);
  const client = new Openid4vciClient({
    callbacks: {
      fetch: loopbackFetch,
      hash: (data, alg) => createHash(alg.replace("-", "")).update(data).digest(),
      generateRandom: (length) => randomBytes(length),
      clientAuthentication: clientAuthenticationAnonymous(),
      signJwt: async (signer, { header, payload }) => {
        const jwt = await new SignJWT(payload).setProtectedHeader(header).sign(holder.privateKey);
        return { jwt, signerJwk: holder.publicJwk };
      },
    },
  });

  const credentialOffer = await client.resolveCredentialOffer(values.offer);
  const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer);
  const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
    credentialOffer,
    issuerMetadata,
    txCode: values["tx-code"],
  });
  const { c_nonce: nonce } = await client.requestNonce({ issuerMetadata });
  const { jwt } = await client.createCredentialRequestJwtProof({
    issuerMetadata,
    credentialConfigurationId: values.configuration,
    signer: holder.signer,
    nonce,
  });
  const response = await client.retrieveCredentials({
    issuerMetadata,
    accessToken: accessTokenResponse.access_token,
    credentialConfigurationId: values.configuration,
    proofs: { jwt: [jwt] },
  });
  const credential = response.credentialResponse.credentials[0].credential;
  if (values.out) {
    writeFileSync(values.out, typeof credential === "string" ? credential : JSON.stringify(credential));
  }
  const format = issuerMetadata.credentialIssuer.credential_configurations_supported[values.configuration].format;
  console.log(JSON.stringify({ ok: true, holder: holder.did ?? null, format, offered: credentialOffer.credential_configuration_ids }));
}

main().catch((error) => {
  const detail = error?.response ? JSON.stringify(error.response.errorResponse ?? error.response) : "";
  const text = `${error?.message ?? error}${detail ? " " + detail : ""}`;
  console.log(JSON.stringify({ ok: false, error: text }));
  process.exit(1);
});
