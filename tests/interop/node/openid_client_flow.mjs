// node openid-client (5.x, pinned in package.json) against a running authd, without glue:
// Issuer.discover -> authorizationUrl (PKCE S256, state, nonce) -> callback (which checks
// state, iss, the id_token's signature against the JWKS, nonce and at_hash) -> userinfo.
// The user agent's part, the hosted login page, is plain fetch with the page's form fields.
// Prints one JSON object; exits non-zero on any failure.
//
//   node openid_client_flow.mjs ISSUER CLIENT_ID REDIRECT_URI EMAIL PASSWORD ID_TOKEN_ALG
//
// ID_TOKEN_ALG is the client's registered id_token_signed_response_alg: openid-client expects
// RS256 unless told, and authd signs id_tokens with its key ring's algorithm (ES256 default).
import { Issuer, generators } from 'openid-client';

const [issuerUrl, clientId, redirectUri, email, password, idTokenAlg] = process.argv.slice(2);

function fields(html) {
  const out = {};
  for (const m of html.matchAll(/<input[^>]*>/g)) {
    const name = /name="([^"]*)"/.exec(m[0]);
    const value = /value="([^"]*)"/.exec(m[0]);
    if (name) out[name[1]] = value ? value[1].replaceAll('&amp;', '&') : '';
  }
  return out;
}

async function signIn(url) {
  const page = await fetch(url, { redirect: 'manual' });
  if (page.status !== 200) throw new Error(`authorize answered ${page.status}`);
  // getSetCookie() is newer than some Node 18 releases; split the joined header otherwise.
  const setCookies = page.headers.getSetCookie
    ? page.headers.getSetCookie()
    : (page.headers.get('set-cookie') || '').split(/,(?=\s*[A-Za-z0-9_-]+=)/);
  const cookie = setCookies.map((c) => c.split(';')[0].trim()).join('; ');
  const html = await page.text();
  const action = new URL(/<form method="post" action="([^"]*)"/.exec(html)[1], url);
  const form = { ...fields(html), email, password };
  const posted = await fetch(action, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookie },
    body: new URLSearchParams(form).toString(),
  });
  if (posted.status !== 302 && posted.status !== 303)
    throw new Error(`login answered ${posted.status}: ${await posted.text()}`);
  return posted.headers.get('location');
}

const issuer = await Issuer.discover(issuerUrl);
const client = new issuer.Client({
  client_id: clientId,
  token_endpoint_auth_method: 'none',
  redirect_uris: [redirectUri],
  response_types: ['code'],
  id_token_signed_response_alg: idTokenAlg,
});
const codeVerifier = generators.codeVerifier();
const state = generators.state();
const nonce = generators.nonce();
const url = client.authorizationUrl({
  scope: 'openid email profile',
  code_challenge: generators.codeChallenge(codeVerifier),
  code_challenge_method: 'S256',
  state,
  nonce,
});
const location = await signIn(url);
const params = client.callbackParams(location);
const tokenSet = await client.callback(redirectUri, params, { code_verifier: codeVerifier, state, nonce });
const claims = tokenSet.claims();
const userinfo = await client.userinfo(tokenSet);
// A replayed code must be refused: openid-client surfaces the server's OAuth error.
let replay = 'accepted';
try {
  await client.callback(redirectUri, params, { code_verifier: codeVerifier, state, nonce });
} catch (e) {
  replay = e.error || String(e);
}
console.log(JSON.stringify({ issuer: issuer.issuer, claims, userinfo, replay }));
