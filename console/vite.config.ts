/// <reference types="vitest/config" />
// Atoll's console: built into dist/ by `make setup`, served by the Atoll server at `/`.
// `npm run dev` proxies the API to an `atoll up` on ATOLL_DEV_SERVER (default :8080).
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";
import { fileURLToPath } from "node:url";
import { readFile, writeFile } from "node:fs/promises";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import type { Plugin } from "vite";

const server = process.env.ATOLL_DEV_SERVER ?? "http://127.0.0.1:8080";

/**
 * Pre-compressed .gz and .br siblings of every text asset: the server sends them as they are.
 * Made from the files as written (writeBundle), after Vite has finished every chunk.
 */
function precompress(): Plugin {
  let outDir = "dist";
  return {
    name: "atoll-precompress",
    apply: "build",
    configResolved(config) {
      outDir = config.build.outDir;
    },
    async writeBundle(_options, bundle) {
      for (const name of Object.keys(bundle)) {
        if (!/\.(js|css|html|svg|json|ttf|woff)$/.test(name)) continue;
        const path = `${outDir}/${name}`;
        const data = await readFile(path);
        if (data.length < 1024) continue;
        // Quality 9 of 11: nearly as small, a fraction of the time on Monaco's megabytes.
        const br = brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 9 } });
        await Promise.all([writeFile(`${path}.gz`, gzipSync(data, { level: 9 })), writeFile(`${path}.br`, br)]);
      }
    },
  };
}

export default defineConfig({
  plugins: [react(), precompress()],
  resolve: {
    alias: [
      { find: "@", replacement: fileURLToPath(new URL("./src", import.meta.url)) },
      // monaco-yaml's worker imports Monaco's by its file path, which Monaco ≥ 0.55's package
      // exports no longer map: point that path at the file.
      {
        find: /^monaco-editor\/esm\/vs\/(.*)$/,
        replacement: fileURLToPath(new URL("./node_modules/monaco-editor/esm/vs/$1", import.meta.url)),
      },
    ],
  },
  build: {
    outDir: "dist",
    sourcemap: false,
    chunkSizeWarningLimit: 4096,
    // Monaco's chunks take their time to compress; a build need not say so each time.
    rolldownOptions: {
      checks: { pluginTimings: false },
      output: {
        // The framework every page stands on, in one file rather than sixty: browsers open
        // six connections per host, so many small chunks queue up before the first page.
        codeSplitting: {
          groups: [
            {
              name: "framework",
              test: /node_modules[\\/](react|react-dom|scheduler|react-router|@tanstack[\\/]react-query|@tanstack[\\/]query-core|i18next|react-i18next|@patternfly[\\/]react-(core|styles|icons|table|tokens)|focus-trap|tabbable|tslib|@popperjs)[\\/]/,
            },
          ],
        },
      },
    },
  },
  // Workers are not scanned for pre-bundling: the YAML worker's CommonJS dependency, and
  // Monaco's worker runtime (else the first editor opened reloads the page). Dev only.
  optimizeDeps: { include: ["path-browserify", "monaco-editor/esm/vs/editor/editor.worker.js"] },
  server: {
    proxy: {
      "^/(api|apis|kapis|oauth)(/|$)": { target: server, ws: true },
      "^/clusters/[^/]+/(api|apis|openapi|version)(/|$)": { target: server, ws: true },
    },
  },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["src/test/setup.ts"],
    css: false,
  },
});
