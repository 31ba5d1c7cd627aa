// Every language has every string: a key in English missing in 简体中文 or Tiếng Việt fails here.
const files = import.meta.glob<Record<string, unknown>>("./locales/*/*.json", { eager: true, import: "default" });

function keys(strings: Record<string, unknown>): string[] {
  return Object.keys(strings).sort();
}

const byNamespace = new Map<string, Map<string, Record<string, unknown>>>();
for (const [path, strings] of Object.entries(files)) {
  const [, language, namespace] = /\.\/locales\/(\w+)\/(\w+)\.json$/.exec(path)!;
  if (!byNamespace.has(namespace)) byNamespace.set(namespace, new Map());
  byNamespace.get(namespace)!.set(language, strings);
}

describe.each([...byNamespace.keys()])("namespace %s", (namespace) => {
  const languages = byNamespace.get(namespace)!;
  it("exists in every language", () => {
    expect([...languages.keys()].sort()).toEqual(["en", "vi", "zh"]);
  });
  it.each(["zh", "vi"])("has the same keys in %s as in English", (language) => {
    expect(keys(languages.get(language) ?? {})).toEqual(keys(languages.get("en")!));
  });
  it.each(["zh", "vi"])("keeps the {{placeholders}} in %s", (language) => {
    const english = languages.get("en")!;
    const other = languages.get(language) ?? {};
    for (const [key, text] of Object.entries(english)) {
      const wanted = String(text).match(/\{\{\w+\}\}/g)?.sort() ?? [];
      const found = String(other[key] ?? "").match(/\{\{\w+\}\}/g)?.sort() ?? [];
      expect({ key, found }).toEqual({ key, found: wanted });
    }
  });
});
