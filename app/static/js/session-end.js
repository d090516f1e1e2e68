// Loaded on every page: signing out (the header's sign-out form) forgets the credential this
// tab kept for re-voting (common.js credentialKey).  The receipt codes stay: they are this tab's
// own check of its ballots, and hold no key.
import { forgetCredentials } from './common.js';

for (const form of document.querySelectorAll('form[data-signout]')) {
  form.addEventListener('submit', () => forgetCredentials());
}
