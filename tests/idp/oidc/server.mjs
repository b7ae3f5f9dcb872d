// A real OpenID Provider (panva/node-oidc-provider) on 127.0.0.1, for Insignia's campus
// sign-on tests (tests/signon/oidc/op.py starts it) and for trying sign-on by hand with
// `make run`:
//
//   node tests/idp/oidc/server.mjs --port 8091 \
//     --redirect-uri http://127.0.0.1:8000/signon/demo/oidc/callback/
//
// prints the issuer URL, client ID and client secret to paste into the console's sign-on
// settings. Its login page is oidc-provider's development one: any login name and any
// password are accepted; `staff1` and `learner1` carry the claims below.
//
// Options (command line, else environment, else the JSON file given with --config):
//   --port N            (PORT)           0 picks a free port; the issuer is http://127.0.0.1:N
//   --issuer URL        (ISSUER)         another issuer URL (it must still reach this port)
//   --redirect-uri URI  (REDIRECT_URI)   registers the demo client; repeatable
//   --client-id ID      (CLIENT_ID)      the demo client's ID (default insignia-demo)
//   --client-secret S   (CLIENT_SECRET)  its secret (default: random, printed)
//   --config FILE       (OIDC_CONFIG)    {"issuer", "port", "clients": [...], "accounts": {...},
//                                         "jwks": {"keys": [private JWKs]}, "registration": bool}
//
// When it listens it prints one JSON line to stdout ({"ready": true, "issuer", "port",
// "clients": [{"client_id", "client_secret", "redirect_uris"}]}), then the same for people.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    issuer: { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
    config: { type: 'string' },
  },
});

const file = args.config ?? process.env.OIDC_CONFIG;
const config = file ? JSON.parse(readFileSync(file, 'utf8')) : {};

// People the test institution knows. Any other login name signs in too, with an address
// made from it (`someone` → someone@uni.test).
const ACCOUNTS = {
  staff1: {
    email: 'staff1@uni.test',
    email_verified: true,
    name: 'Sam Staff',
    preferred_username: 'staff1@uni.test',
    eduperson_affiliation: ['staff', 'member'],
  },
  learner1: {
    email: 'learner1@uni.test',
    email_verified: true,
    name: 'Lee Learner',
    preferred_username: 'learner1@uni.test',
    student_id: '20261234',
    eduperson_affiliation: ['student', 'member'],
  },
  ...(config.accounts ?? {}),
};

function privateJwk(type, options, alg, kid) {
  const { privateKey } = generateKeyPairSync(type, options);
  return { ...privateKey.export({ format: 'jwk' }), alg, use: 'sig', kid };
}

const jwks = config.jwks ?? {
  keys: [
    privateJwk('rsa', { modulusLength: 2048 }, 'RS256', 'rsa-1'),
    privateJwk('ec', { namedCurve: 'P-256' }, 'ES256', 'ec-1'),
    privateJwk('ed25519', {}, 'EdDSA', 'ed-1'),
    privateJwk('ed25519', {}, 'Ed25519', 'ed-2'),
  ],
};

const clients = [...(config.clients ?? [])];
const redirectUris = args['redirect-uri'] ?? (process.env.REDIRECT_URI ? [process.env.REDIRECT_URI] : []);
if (redirectUris.length) {
  clients.push({
    client_id: args['client-id'] ?? process.env.CLIENT_ID ?? 'insignia-demo',
    client_secret: args['client-secret'] ?? process.env.CLIENT_SECRET ?? randomBytes(24).toString('base64url'),
    redirect_uris: redirectUris,
  });
}
for (const client of clients) {
  client.grant_types ??= ['authorization_code'];
  client.response_types ??= ['code'];
}

const server = createServer();
server.listen(Number(args.port ?? process.env.PORT ?? config.port ?? 0), '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = args.issuer ?? process.env.ISSUER ?? config.issuer ?? `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients,
    jwks,
    findAccount(ctx, id) {
      const known = ACCOUNTS[id] ?? { email: id.includes('@') ? id : `${id}@uni.test`, name: id };
      return { accountId: id, claims: () => ({ sub: id, ...known }) };
    },
    // Custom claims ride on the `profile` scope, so the platform's default scopes
    // ("openid email profile") bring them.
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username', 'student_id', 'eduperson_affiliation'],
    },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    features: {
      devInteractions: { enabled: true },
      registration: { enabled: config.registration ?? false },
    },
    pkce: { required: () => true },
    // Refresh tokens are not asked for: sign-on needs one ID token.
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
  });
  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({
    ready: true,
    issuer,
    port,
    clients: clients.map(({ client_id, client_secret, redirect_uris }) => ({ client_id, client_secret, redirect_uris })),
  })}\n`);
  for (const client of clients) {
    process.stdout.write(`\nIssuer URL:    ${issuer}\nClient ID:     ${client.client_id}\nClient secret: ${client.client_secret}\nRedirect URI:  ${client.redirect_uris.join(' ')}\n`);
  }
  process.stdout.write('\nSign in with any login name and any password (staff1 and learner1 carry test claims).\n');
  process.stdout.write(`Under \`make run\`, let Insignia reach this provider: INSIGNIA_DEV_LOOPBACK_HOSTS=127.0.0.1:${port}\n`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
