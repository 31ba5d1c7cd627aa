/** Light or dark, remembered per browser; PatternFly 6 switches on a class of <html>. */
export type Theme = "light" | "dark";

const KEY = "atoll.theme";

export function savedTheme(): Theme {
  const saved = localStorage.getItem(KEY);
  if (saved === "light" || saved === "dark") return saved;
  return window.matchMedia?.("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

export function applyTheme(theme: Theme): void {
  localStorage.setItem(KEY, theme);
  document.documentElement.classList.toggle("pf-v6-theme-dark", theme === "dark");
}
