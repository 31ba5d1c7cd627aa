/**
 * Where extensions are registered and found. Components register at start (the built-in
 * ones in `src/pages/index.ts`); pages read them through `useExtensions`, which leaves out
 * those of components the platform has switched off.
 */
import { createContext, useContext } from "react";
import type { Extension } from "./types";

const registered: Extension[] = [];

export function register(...extensions: Extension[]): void {
  for (const extension of extensions) {
    if (registered.some((known) => known.id === extension.id)) {
      throw new Error(`console extension ${extension.id} is registered twice`);
    }
    registered.push(extension);
  }
}

export function all(): readonly Extension[] {
  return registered;
}

/** The names of the Atoll components switched off (their extensions are hidden). */
export const DisabledComponents = createContext<ReadonlySet<string>>(new Set());

export function useExtensions<T extends Extension["type"]>(type: T): Extract<Extension, { type: T }>[] {
  const disabled = useContext(DisabledComponents);
  return registered.filter(
    (extension): extension is Extract<Extension, { type: T }> =>
      extension.type === type && !disabled.has(extension.component),
  );
}
