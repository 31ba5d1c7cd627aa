/**
 * A container's command and arguments are lists, but people think of them as a line they
 * would type in a shell (`python3 -m http.server 8000`). The wizard takes either: a line,
 * split here the way a POSIX shell splits words (quotes and backslashes, no expansion), or
 * one item per line. Switching between the two keeps the list the same (`joinLine`).
 */

export type WordsMode = "line" | "lines";

export interface Words {
  words: string[];
  /** A quote was opened and never closed: the split is not what the user means yet. */
  unclosed: boolean;
}

/** Inside double quotes a backslash escapes only these (as in sh). */
const ESCAPABLE_IN_DOUBLE = new Set(['"', "\\", "$", "`", "\n"]);

export function splitLine(line: string): Words {
  const words: string[] = [];
  let current = "";
  let started = false;
  let quote: "'" | '"' | null = null;
  for (let at = 0; at < line.length; at++) {
    const char = line[at];
    if (quote === "'") {
      if (char === "'") quote = null;
      else current += char;
    } else if (quote === '"') {
      if (char === '"') quote = null;
      else if (char === "\\" && ESCAPABLE_IN_DOUBLE.has(line[at + 1] ?? "")) current += line[++at];
      else current += char;
    } else if (char === "'" || char === '"') {
      quote = char;
      started = true;
    } else if (char === "\\" && at + 1 < line.length) {
      current += line[++at];
      started = true;
    } else if (/\s/.test(char)) {
      if (started) words.push(current);
      current = "";
      started = false;
    } else {
      current += char;
      started = true;
    }
  }
  if (started) words.push(current);
  return { words, unclosed: quote !== null };
}

const PLAIN = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** A line that `splitLine` turns back into `words`: each quoted only when it must be. */
export function joinLine(words: string[]): string {
  return words.map((word) => (PLAIN.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`)).join(" ");
}

/** The list a command or args field holds, in either mode; blank lines are not items. */
export function wordsOf(mode: WordsMode, text: string): Words {
  if (mode === "line") return splitLine(text);
  return { words: text.split("\n").filter((item) => item.trim() !== ""), unclosed: false };
}

/** The same list written in the other mode. */
export function convertWords(from: WordsMode, text: string): string {
  const { words } = wordsOf(from, text);
  return from === "line" ? words.join("\n") : joinLine(words);
}
