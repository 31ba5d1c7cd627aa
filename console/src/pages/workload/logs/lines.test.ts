import { LineSplitter, NO_LINES, appendCapped } from "./lines";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("LineSplitter", () => {
  it("hands back only whole lines, keeping a cut line until its end comes", () => {
    const splitter = new LineSplitter();
    expect(splitter.push(bytes("one\ntw"))).toEqual(["one"]);
    expect(splitter.push(bytes("o\nthr"))).toEqual(["two"]);
    expect(splitter.push(bytes("ee"))).toEqual([]);
    expect(splitter.end()).toEqual(["three"]);
    expect(splitter.end()).toEqual([]);
  });

  it("joins a UTF-8 character cut between chunks", () => {
    const encoded = bytes("héllo ✓ 日本\n");
    const splitter = new LineSplitter();
    const lines: string[] = [];
    // one byte at a time: every multi-byte character is cut
    for (const byte of encoded) lines.push(...splitter.push(Uint8Array.of(byte)));
    expect(lines).toEqual(["héllo ✓ 日本"]);
  });

  it("drops carriage returns of CRLF line ends and keeps empty lines", () => {
    const splitter = new LineSplitter();
    expect(splitter.push(bytes("a\r\n\r\nb\n"))).toEqual(["a", "", "b"]);
  });

  it("gives nothing at the end after a final newline", () => {
    const splitter = new LineSplitter();
    splitter.push(bytes("last\n"));
    expect(splitter.end()).toEqual([]);
  });
});

describe("appendCapped", () => {
  it("appends within the cap", () => {
    expect(appendCapped({ lines: ["a"], dropped: 0 }, ["b", "c"], 5)).toEqual({ lines: ["a", "b", "c"], dropped: 0 });
  });

  it("lets the oldest lines go beyond the cap and counts them", () => {
    const first = appendCapped(NO_LINES, ["1", "2", "3"], 4);
    const second = appendCapped(first, ["4", "5", "6"], 4);
    expect(second).toEqual({ lines: ["3", "4", "5", "6"], dropped: 2 });
    expect(appendCapped(second, ["7"], 4)).toEqual({ lines: ["4", "5", "6", "7"], dropped: 3 });
  });

  it("returns the same value when nothing is added", () => {
    const log = { lines: ["a"], dropped: 0 };
    expect(appendCapped(log, [])).toBe(log);
  });
});
