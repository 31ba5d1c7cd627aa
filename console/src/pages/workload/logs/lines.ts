/**
 * Log text arrives in chunks that cut lines, and UTF-8 characters, anywhere: `LineSplitter`
 * hands back only whole lines (the decoder keeps a character's first bytes until the rest
 * come). A followed log may run for days, so the page keeps only the newest lines
 * (`appendCapped`) and says how many it let go.
 */

/** How many lines a log view keeps. */
export const MAX_LINES = 50_000;

export class LineSplitter {
  private readonly decoder = new TextDecoder("utf-8");
  private partial = "";

  /** The lines this chunk completes (without their line ends). */
  push(chunk: Uint8Array): string[] {
    const text = this.partial + this.decoder.decode(chunk, { stream: true });
    const lines = text.split("\n");
    this.partial = lines.pop() ?? "";
    return lines.map(withoutCarriageReturn);
  }

  /** At the end of the stream: the last line, if it had no line end. */
  end(): string[] {
    const rest = this.partial + this.decoder.decode();
    this.partial = "";
    return rest ? [withoutCarriageReturn(rest)] : [];
  }
}

function withoutCarriageReturn(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}

export interface LogLines {
  lines: string[];
  /** How many older lines were let go to stay within the cap. */
  dropped: number;
}

export const NO_LINES: LogLines = { lines: [], dropped: 0 };

/** The lines with `more` appended, the oldest let go beyond `max`. */
export function appendCapped(current: LogLines, more: string[], max = MAX_LINES): LogLines {
  if (more.length === 0) return current;
  const all = current.lines.concat(more);
  const over = Math.max(0, all.length - max);
  return { lines: over ? all.slice(over) : all, dropped: current.dropped + over };
}
