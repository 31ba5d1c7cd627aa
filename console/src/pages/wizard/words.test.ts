// Command lines split as a shell would, and back.
import { convertWords, joinLine, splitLine, wordsOf } from "./words";

describe("splitLine", () => {
  it.each([
    ["python3 -m http.server 8000", ["python3", "-m", "http.server", "8000"]],
    ["  spaced   out  ", ["spaced", "out"]],
    [`sh -c 'echo "hi there" && sleep 1'`, ["sh", "-c", `echo "hi there" && sleep 1`]],
    [`echo "a \\"quoted\\" word" \\$HOME`, ["echo", `a "quoted" word`, "$HOME"]],
    [`echo "keep \\n as is"`, ["echo", "keep \\n as is"]],
    [`a\\ b c`, ["a b", "c"]],
    [`empty '' ""`, ["empty", "", ""]],
    [`glued'single'"double"`, ["gluedsingledouble"]],
    ["", []],
  ])("splits %j", (line, words) => {
    expect(splitLine(line)).toEqual({ words, unclosed: false });
  });
  it("notices an unclosed quote", () => {
    expect(splitLine(`echo 'oops`).unclosed).toBe(true);
    expect(splitLine(`echo "oops`).unclosed).toBe(true);
  });
});

describe("joinLine", () => {
  it("quotes only what must be quoted and splits back to the same list", () => {
    const words = ["sh", "-c", "echo it's $HOME", "", "--flag=a,b"];
    const line = joinLine(words);
    expect(line).toBe(`sh -c 'echo it'\\''s $HOME' '' --flag=a,b`);
    expect(splitLine(line).words).toEqual(words);
  });
});

describe("wordsOf and convertWords", () => {
  it("takes one item per line, blank lines left out", () => {
    expect(wordsOf("lines", "sh\n-c\n\necho a b\n")).toEqual({ words: ["sh", "-c", "echo a b"], unclosed: false });
  });
  it("keeps the list when the mode changes", () => {
    expect(convertWords("line", `sh -c 'echo a b'`)).toBe("sh\n-c\necho a b");
    expect(convertWords("lines", "sh\n-c\necho a b")).toBe(`sh -c 'echo a b'`);
  });
});
