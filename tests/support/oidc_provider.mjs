// A real OpenID Connect provider for the tests, standing in for ThaiD (DOPA's digital ID):
// panva's `oidc-provider` (OpenID Certified; frontend/package.json devDependency).  This script
// only CONFIGURES the package: discovery, authorization code + PKCE, ID-token signing, state and
// nonce handling and the login/consent pages (the package's development interactions: any
// password is accepted for a configured account) are all the package's own code.
//
//   node tests/support/oidc_provider.mjs CONFIG.json
//
// CONFIG: {"port": 0, "issuer": "http://127.0.0.1:PORT", "clients": [...],
//          "accounts": {"<login>": {"pid": "...", "birthdate": "YYYY-MM-DD", "ial": 2.3, "name": "..."}}}
// With port 0 the OS picks one.  When listening it prints one line: {"issuer": "..."}.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const modules = process.env.OIDC_PROVIDER_MODULES || join(here, '..', '..', 'frontend', 'node_modules');
const { default: Provider } = await import(pathToFileURL(join(modules, 'oidc-provider', 'lib', 'index.js')).href);

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const accounts = config.accounts || {};

// Bind first, so that the issuer can carry the port the OS chose.
const server = createServer();
await new Promise((resolve) => server.listen(config.port || 0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: config.clients,
  // ThaiD's claims (scope `pid`, as ThaiD names it); in the ID token, as ThaiD returns them.
  claims: { openid: ['sub'], pid: ['pid', 'birthdate', 'ial', 'name'] },
  scopes: ['openid', 'pid'],
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: [config.cookie_key || 'oidc-test-cookie-key-not-secret'] },
  async findAccount(ctx, id) {
    const person = accounts[id];
    if (!person) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, pid: person.pid, birthdate: person.birthdate, ial: person.ial,
                 name: person.name || id };
      },
    };
  },
});
provider.on('server_error', (ctx, err) => console.error('server_error', err));
server.on('request', provider.callback());
console.log(JSON.stringify({ issuer }));
