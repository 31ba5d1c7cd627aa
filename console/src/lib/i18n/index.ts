/**
 * English, 简体中文 and Tiếng Việt. Strings live in `locales/<language>/<namespace>.json`, one
 * namespace per area of the console (`common`, `platform`, `cluster`, `workspace`, `project`,
 * `workload`), so each area keeps its words beside the others'. Keys are `t("ns:key")`; a
 * missing translation falls back to English.
 */
import i18n from "i18next";
import { initReactI18next } from "react-i18next";

export const LANGUAGES = [
  { code: "en", name: "English" },
  { code: "zh", name: "简体中文" },
  { code: "vi", name: "Tiếng Việt" },
] as const;

export type Language = (typeof LANGUAGES)[number]["code"];

const files = import.meta.glob<Record<string, unknown>>("./locales/*/*.json", { eager: true, import: "default" });

const resources: Record<string, Record<string, Record<string, unknown>>> = {};
for (const [path, strings] of Object.entries(files)) {
  const [, language, namespace] = /\.\/locales\/(\w+)\/(\w+)\.json$/.exec(path) ?? [];
  if (!language || !namespace) continue;
  (resources[language] ??= {})[namespace] = strings;
}

const KEY = "atoll.language";

export function savedLanguage(): Language {
  const saved = localStorage.getItem(KEY);
  if (saved && LANGUAGES.some((language) => language.code === saved)) return saved as Language;
  const browser = navigator.language.slice(0, 2);
  return LANGUAGES.some((language) => language.code === browser) ? (browser as Language) : "en";
}

export function setLanguage(language: Language): void {
  localStorage.setItem(KEY, language);
  document.documentElement.lang = language;
  void i18n.changeLanguage(language);
}

void i18n.use(initReactI18next).init({
  resources,
  lng: savedLanguage(),
  fallbackLng: "en",
  defaultNS: "common",
  ns: Object.keys(resources.en ?? { common: {} }),
  interpolation: { escapeValue: false },
  returnNull: false,
});
document.documentElement.lang = i18n.language;

export default i18n;
