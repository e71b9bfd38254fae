// A real OpenID Connect provider for the tests (panva's oidc-provider, as ProConnect-like as
// it needs to be): discovery, authorization code with PKCE, signed ID tokens, userinfo as a
// signed JWT (as ProConnect sends it), RP-initiated logout.
//
//   PORT=4567 CLIENT_ID=retour CLIENT_SECRET=… node tests/oidc/provider.mjs
//
// Sign-in page: any email as login, any password. Consent is granted by itself.
// Test hooks (this script only; a real provider has none):
//   POST /__test/tamper {"mode": "audience" | "expired" | "foreign-key" | "issuer"}
//     the next ID token from /token is re-signed with that flaw (audience: issued for
//     another client; expired: exp an hour ago; foreign-key: signed by a key not in the JWKS;
//     issuer: another issuer), so the relying party's checks meet each flaw for real.
//   GET /__test/sessions: how many provider sessions are open (sign-out must end them).
// Every page is inline HTML with no external resource: the tests never leave the machine.
import { generateKeyPair, exportJWK, decodeJwt, SignJWT } from 'jose';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const clientId = process.env.CLIENT_ID || 'retour';
const clientSecret = process.env.CLIENT_SECRET || 'retour-test-secret-0123456789abcdef';

const signing = await generateKeyPair('RS256', { extractable: true });
const foreign = await generateKeyPair('RS256');
const publicJwk = { ...(await exportJWK(signing.privateKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };

let tamper = null;
const sessions = new Set();

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title, body) => `<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>${escape(title)}</title></head><body><main><h1>${escape(title)}</h1>${body}</main></body></html>`;

// The relying party runs on ports the tests choose: accept its callback on any of them.
const allowed = (value, path) => {
  try {
    const url = new URL(value);
    return ['127.0.0.1', 'testserver', 'localhost'].includes(url.hostname) && url.pathname === path;
  } catch {
    return false;
  }
};

const configuration = {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: ['http://testserver/console/oidc/callback'],
      post_logout_redirect_uris: ['http://testserver/console/login'],
      userinfo_signed_response_alg: 'RS256',
    },
    { client_id: 'another-service', client_secret: 'another-secret-0123456789abcdefgh', redirect_uris: ['http://testserver/cb'] },
  ],
  jwks: { keys: [publicJwk] },
  cookies: { keys: ['oidc-test-cookie-key'] },
  claims: {
    openid: ['sub'],
    email: ['email'],
    given_name: ['given_name'],
    usual_name: ['usual_name'],
  },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        const [local] = id.split('@');
        const [given, usual] = local.split('.');
        return { sub: id, email: id, given_name: given || local, usual_name: usual || local };
      },
    };
  },
  async loadExistingGrant(ctx) {
    const { provider, session, client } = ctx.oidc;
    const grantId = ctx.oidc.result?.consent?.grantId || session.grantIdFor(client.clientId);
    if (grantId) return provider.Grant.find(grantId);
    const grant = new provider.Grant({ clientId: client.clientId, accountId: session.accountId });
    grant.addOIDCScope('openid email given_name usual_name');
    await grant.save();
    return grant;
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    jwtUserinfo: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      async logoutSource(ctx, form) {
        ctx.body = page('Sign out of the test provider', `${form}
<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>`);
      },
      async postLogoutSuccessSource(ctx) {
        ctx.body = page('Signed out', '<p>You are signed out.</p>');
      },
    },
  },
  pkce: { required: () => true },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Provider error', `<pre>${escape(JSON.stringify(out))}</pre>`);
  },
  ttl: {
    AccessToken: 600,
    AuthorizationCode: 60,
    IdToken: 600,
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
  },
};

const provider = new Provider(issuer, configuration);
provider.Client.prototype.redirectUriAllowed = function redirectUriAllowed(value) {
  return this.redirectUris.includes(value) || allowed(value, '/console/oidc/callback');
};
provider.Client.prototype.postLogoutRedirectUriAllowed = function postLogoutAllowed(value) {
  return this.postLogoutRedirectUris.includes(value) || allowed(value, '/console/login');
};
provider.on('session.saved', (session) => sessions.add(session.jti));
provider.on('session.destroyed', (session) => sessions.delete(session.jti));

const readForm = async (req) => {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
};

provider.use(async (ctx, next) => {
  if (ctx.path === '/__test/tamper' && ctx.method === 'POST') {
    tamper = (await readForm(ctx.req)).get('mode');
    ctx.body = { tamper };
    return;
  }
  if (ctx.path === '/__test/sessions') {
    ctx.body = { open: sessions.size };
    return;
  }
  const match = ctx.path.match(/^\/interaction\/([\w-]+)$/);
  if (match) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (ctx.method === 'GET') {
      ctx.type = 'html';
      ctx.body = page('Sign in to the test provider', `
<form method="post" action="/interaction/${escape(match[1])}">
  <p><label for="login">Email</label> <input id="login" name="login" type="email" required></p>
  <p><label for="password">Password</label> <input id="password" name="password" type="password" required></p>
  <p><button type="submit">Sign in</button></p>
</form>`);
      return;
    }
    const form = await readForm(ctx.req);
    const result = details.prompt.name === 'login'
      ? { login: { accountId: form.get('login') } }
      : {};
    ctx.redirect(await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false }));
    return;
  }
  await next();
  if (ctx.path === '/token' && ctx.status === 200 && tamper && ctx.body?.id_token) {
    const claims = decodeJwt(ctx.body.id_token);
    let key = signing.privateKey;
    if (tamper === 'audience') claims.aud = 'another-service';
    if (tamper === 'issuer') claims.iss = 'http://127.0.0.1:1';
    if (tamper === 'expired') {
      claims.iat -= 7200;
      claims.exp = Math.floor(Date.now() / 1000) - 3600;
    }
    if (tamper === 'foreign-key') key = foreign.privateKey;
    ctx.body.id_token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'test-key' })
      .sign(key);
    tamper = null;
  }
});

provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`oidc-provider listening on ${issuer}\n`);
});
