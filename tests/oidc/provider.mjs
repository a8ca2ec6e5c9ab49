// A local OpenID Connect provider for pilotwatch's browser sign-in tests (tests/oidc/README.md).
//
//   node tests/oidc/provider.mjs --port 43123 --redirect-uri http://localhost:8501/oauth2callback \
//        [--client-id pilotwatch-test] [--client-secret ...]
//
// panva's oidc-provider with its development interactions (a login form taking any password),
// one confidential web client (authorization code flow, client_secret_basic or _post) and three
// fixed accounts. It listens on 127.0.0.1 only; the issuer is http://127.0.0.1:<port>.
// Test use only: the signing keys are generated at start and nothing is persisted.

import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
    'client-id': { type: 'string', default: 'pilotwatch-test' },
    'client-secret': { type: 'string', default: 'pilotwatch-test-secret-not-for-production' },
  },
});

if (!args.port || !args['redirect-uri']) {
  console.error('usage: provider.mjs --port PORT --redirect-uri URI [--client-id ID] [--client-secret S]');
  process.exit(2);
}

// The accounts the tests sign in as (the login form's "login" field is the account id).
// Roles are not the provider's business: tests map these e-mails and groups in access.yaml.
const ACCOUNTS = {
  approver: {
    email: 'approver@example.org',
    name: 'Avery Approver',
    groups: ['steering-committee'],
  },
  viewer: {
    email: 'viewer@example.org',
    name: 'Vic Viewer',
    groups: ['sepsis-team'],
  },
  norole: {
    email: 'nobody@example.org',
    name: 'Noel Norole',
    groups: ['visitors'],
  },
};

const port = Number(args.port);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: args['client-id'],
      client_secret: args['client-secret'],
      // an http redirect URI is valid for a web client using the code flow (only the implicit
      // flow insists on https and no localhost)
      redirect_uris: args['redirect-uri'],
      post_logout_redirect_uris: args['redirect-uri'],
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  // Streamlit's st.login reads the identity from the ID token only (never the userinfo
  // endpoint), so the scope's claims go into the ID token
  conformIdTokenClaims: false,
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'groups'],
  },
  async findAccount(ctx, id) {
    const account = ACCOUNTS[id];
    if (!account) return undefined; // the login form then shows an error
    return {
      accountId: id,
      async claims() {
        return { sub: id, email_verified: true, ...account };
      },
    };
  },
  // A first-party test client: the consent screen is skipped by granting what was asked.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile');
    grant.addOIDCClaims(['email', 'email_verified', 'name', 'groups']);
    await grant.save();
    return grant;
  },
  // PKCE stays required for public clients only; Authlib sends none for a confidential one
  pkce: { required: () => false },
  features: {
    devInteractions: { enabled: true },
  },
  // the cookies' keys only sign test sessions
  cookies: { keys: ['pilotwatch-test-cookie-key'] },
});

// Streamlit's st.login asks for prompt=select_account (as Entra ID and Google offer);
// oidc-provider refuses prompt values it has no interaction for. Each browser context holds
// one account here, so select_account is satisfied by definition and dropped.
provider.use(async (ctx, next) => {
  if (ctx.path === '/auth' && typeof ctx.query.prompt === 'string') {
    const query = { ...ctx.query };
    const prompts = query.prompt.split(' ').filter((p) => p && p !== 'select_account');
    if (prompts.length) query.prompt = prompts.join(' ');
    else delete query.prompt;
    ctx.query = query;
  }
  await next();
});

provider.on('server_error', (ctx, err) => console.error('server_error', err));

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer} (client ${args['client-id']})`);
});

// the test fixture stops us with SIGTERM
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
