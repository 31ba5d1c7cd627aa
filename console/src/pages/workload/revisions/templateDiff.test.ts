import { diffText, foldUnchanged, hasChanges, templateDiff, toYaml } from "./templateDiff";

describe("templateDiff", () => {
  it("marks what the revision adds and what it takes away", () => {
    const lines = templateDiff(
      { spec: { containers: [{ name: "web", image: "web:3" }] } },
      { spec: { containers: [{ name: "web", image: "web:1" }] } },
    );
    expect(lines.filter((line) => line.type !== "unchanged")).toEqual([
      { type: "removed", text: "    - image: web:3" },
      { type: "added", text: "    - image: web:1" },
    ]);
  });

  it("ignores the order of keys", () => {
    expect(hasChanges(templateDiff({ a: 1, b: 2 }, { b: 2, a: 1 }))).toBe(false);
  });

  it("writes YAML with sorted keys", () => {
    expect(toYaml({ b: 1, a: { d: 1, c: 2 } })).toBe("a:\n  c: 2\n  d: 1\nb: 1\n");
  });

  it("keeps lines whole when a text has no final newline", () => {
    expect(diffText("a\nb", "a\nc")).toEqual([
      { type: "unchanged", text: "a" },
      { type: "removed", text: "b" },
      { type: "added", text: "c" },
    ]);
  });
});

describe("foldUnchanged", () => {
  it("keeps context around changes and folds the rest", () => {
    const from = Array.from({ length: 20 }, (_, at) => `line ${at}`).join("\n");
    const to = from.replace("line 10", "line ten");
    const rows = foldUnchanged(diffText(from, to), 2);
    expect(rows[0]).toEqual({ type: "fold", count: 8 });
    expect(rows.slice(1, 7).map((row) => (row.type === "fold" ? "fold" : row.text))).toEqual([
      "line 8",
      "line 9",
      "line 10",
      "line ten",
      "line 11",
      "line 12",
    ]);
    expect(rows[7]).toEqual({ type: "fold", count: 7 });
  });
});
