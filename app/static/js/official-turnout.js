// The officials' dashboard: refresh each election's live turnout (counts of ballots on the
// board, distinct voters, paper voters — never results) from its small JSON endpoint, without
// reloading the page.  Without JavaScript the table is as of the page load, with a Refresh link.
const tables = document.querySelectorAll('.turnout[data-url]');

async function refresh(box) {
  const response = await fetch(box.dataset.url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
  if (!response.ok) return;
  const data = await response.json();
  for (const c of data.contests) {
    const row = box.querySelector(`tr[data-contest="${CSS.escape(c.contest)}"]`);
    if (!row) continue;
    for (const field of ['eligible', 'ballots', 'voters']) {
      const cell = row.querySelector(`[data-field="${field}"]`);
      if (cell) cell.textContent = String(c[field]);
    }
    const paper = row.querySelector('[data-field="paper_voters"]');
    if (paper && c.paper_voters !== null) paper.textContent = String(c.paper_voters);
  }
  const at = box.querySelector('[data-field="at"]');
  if (at && data.at_local) at.textContent = data.at_local;
}

for (const box of tables) {
  const seconds = Math.max(5, Number(box.dataset.refresh) || 30);
  setInterval(() => { refresh(box).catch(() => {}); }, seconds * 1000);
}
