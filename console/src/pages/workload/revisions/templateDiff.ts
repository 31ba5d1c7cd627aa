/**
 * What rolling back would change: the current pod template against a revision's, both as
 * YAML with sorted keys (so key order never shows as a change), compared line by line.
 * Long unchanged stretches fold to a few lines of context around each change, as in
 * `diff -u`.
 */
import { diffLines } from "diff";
import { stringify } from "yaml";

export type DiffLineType = "added" | "removed" | "unchanged";

export interface DiffLine {
  type: DiffLineType;
  text: string;
}

/** A run of unchanged lines left out of view. */
export interface Fold {
  type: "fold";
  count: number;
}

export type DiffRow = DiffLine | Fold;

export function toYaml(value: unknown): string {
  return stringify(value ?? {}, { sortMapEntries: true });
}

function linesOf(value: string): string[] {
  const lines = value.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** Every line of both texts, marked added (only in `to`), removed (only in `from`) or unchanged. */
export function diffText(from: string, to: string): DiffLine[] {
  return diffLines(from, to).flatMap((change) => {
    const type: DiffLineType = change.added ? "added" : change.removed ? "removed" : "unchanged";
    return linesOf(change.value).map((text) => ({ type, text }));
  });
}

export function templateDiff(from: unknown, to: unknown): DiffLine[] {
  return diffText(toYaml(from), toYaml(to));
}

export function hasChanges(lines: DiffLine[]): boolean {
  return lines.some((line) => line.type !== "unchanged");
}

/** Keeps `context` unchanged lines either side of each change; the rest become folds. */
export function foldUnchanged(lines: DiffLine[], context = 3): DiffRow[] {
  const keep = lines.map((line) => line.type !== "unchanged");
  lines.forEach((line, at) => {
    if (line.type === "unchanged") return;
    for (let near = Math.max(0, at - context); near <= Math.min(lines.length - 1, at + context); near++) keep[near] = true;
  });
  const rows: DiffRow[] = [];
  lines.forEach((line, at) => {
    if (keep[at]) {
      rows.push(line);
      return;
    }
    const last = rows[rows.length - 1];
    if (last?.type === "fold") last.count++;
    else rows.push({ type: "fold", count: 1 });
  });
  return rows;
}
