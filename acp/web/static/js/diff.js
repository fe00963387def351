// A diff for an edit's preview: a line diff (LCS) of old and new text with a
// few lines of context; large edits fall back to the changed block as a whole.

const CONTEXT_LINES = 3;
const LCS_MAX_CELLS = 250000; // above this (500 x 500 lines) the middle is shown as removed + added

function lcsOps(a, b) {
  const n = a.length, m = b.length;
  const table = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) {
    table[i][j] = a[i] === b[j] ? table[i + 1][j + 1] + 1 : Math.max(table[i + 1][j], table[i][j + 1]);
  }
  const ops = [];
  let i = 0, j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) { ops.push([' ', a[i]]); i++; j++; }
    else if (table[i + 1][j] >= table[i][j + 1]) ops.push(['-', a[i++]]);
    else ops.push(['+', b[j++]]);
  }
  while (i < n) ops.push(['-', a[i++]]);
  while (j < m) ops.push(['+', b[j++]]);
  return ops;
}

export function diffLines(oldText, newText) {
  const a = oldText ? oldText.split('\n') : [];
  const b = newText ? newText.split('\n') : [];
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length, endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) { endA--; endB--; }
  const midA = a.slice(start, endA), midB = b.slice(start, endB);
  const middle = midA.length * midB.length <= LCS_MAX_CELLS
    ? lcsOps(midA, midB)
    : [...midA.map((l) => ['-', l]), ...midB.map((l) => ['+', l])];
  const before = a.slice(Math.max(0, start - CONTEXT_LINES), start).map((l) => [' ', l]);
  const after = a.slice(endA, endA + CONTEXT_LINES).map((l) => [' ', l]);
  return [...before, ...middle, ...after];
}

export function renderDiff(diff) {
  const box = document.createElement('div');
  box.className = 'diff';
  const head = document.createElement('div');
  head.className = 'diff-path';
  head.textContent = diff.path || '';
  const pre = document.createElement('pre');
  for (const [sign, line] of diffLines(diff.oldText, diff.newText)) {
    const row = document.createElement('span');
    row.className = sign === '+' ? 'add' : sign === '-' ? 'del' : 'ctx';
    row.textContent = `${sign} ${line}\n`;
    pre.append(row);
  }
  box.append(head, pre);
  return box;
}
