// The officials' signing step for a poll extension or a lot (docs/record.md §2.7, §4.6), the same
// as the paper-vote list's (official-sign.js signs with SSBCrypto.credential.signOfficialObject).
import { startOfficialSigning } from './official-sign.js';

startOfficialSigning({
  dataId: 'decision-sign-data',
  formId: 'decision-sign-form',
  sign: (api, body, symbols, officialKey) => api.credential.signOfficialObject(body, symbols, officialKey, body.type),
});
