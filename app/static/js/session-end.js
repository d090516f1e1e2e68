// Loaded on every page: signing out (the header's sign-out form) forgets the credential this
// tab kept for re-voting (common.js credentialKey) and the ballot choices kept across a
// re-sign-in (forgetChoices).  The receipt codes stay: they are this tab's
// own check of its ballots, and hold no key.
import { forgetChoices, forgetCredentials } from './common.js';

for (const form of document.querySelectorAll('form[data-signout]')) {
  form.addEventListener('submit', () => {
    forgetCredentials();
    forgetChoices();
  });
}
