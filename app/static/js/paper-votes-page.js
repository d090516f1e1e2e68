// The officials' paper-vote page, signing step (docs/record.md §2.4): the official has seen the
// count, the identities and the digest of the list; official-sign.js checks the digest and the
// count again and signs the list on this device.
import { startOfficialSigning } from './official-sign.js';

startOfficialSigning({
  dataId: 'paper-sign-data',
  formId: 'paper-sign-form',
  shownOk: (data) => data.body.pseudonyms.length === data.count,
  sign: (api, body, symbols, officialKey) => api.credential.signPaperList(body, symbols, officialKey),
});
