// Text as the wire protocol counts it: Unicode code points, not UTF-16 units.

/** Length in code points ("a😀b" is 3). */
export function cpLength(text) {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** Words as the server counts them (split on white space). */
export function wordCount(text) {
  const t = text.trim();
  return t ? t.split(/\s+/u).length : 0;
}

/**
 * The smallest single edit turning `before` into `after`, positions in code points:
 * `{pos, delete, insert}`, or null when they are equal.
 */
export function diffOp(before, after) {
  if (before === after) return null;
  const a = Array.from(before);
  const b = Array.from(after);
  let start = 0;
  const max = Math.min(a.length, b.length);
  while (start < max && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const op = { pos: start };
  if (endA > start) op.delete = endA - start;
  op.insert = b.slice(start, endB).join("");
  return op;
}

/** Apply ops as the server does (each: delete at pos, then insert); null if out of range. */
export function applyOps(text, ops) {
  let cps = Array.from(text);
  for (const op of ops) {
    const del = op.delete || 0;
    if (op.pos > cps.length || op.pos + del > cps.length) return null;
    cps = [...cps.slice(0, op.pos), ...Array.from(op.insert || ""), ...cps.slice(op.pos + del)];
  }
  return cps.join("");
}
