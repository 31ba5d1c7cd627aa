/**
 * The YAML editor: Monaco through PatternFly's CodeEditor, with the kind's JSON schema giving
 * completion, hover docs and validation (monaco-yaml).
 *
 * Monaco and its web workers are bundled with the console and handed to @monaco-editor/react,
 * which would otherwise fetch Monaco from a CDN: Atoll must work without the internet. Monaco
 * is big, so this module is imported only by lazily loaded pages — never from lib/ or app/.
 * If the editor cannot start, the text is still shown, read-only, in a <pre>.
 */
import { Component, useEffect, useId, useSyncExternalStore, type ReactNode } from "react";
import { Alert } from "@patternfly/react-core";
import { CodeEditor, Language } from "@patternfly/react-code-editor";
import { loader } from "@monaco-editor/react";
import * as monaco from "monaco-editor/editor";
import "monaco-editor/features/register.all";
import "monaco-editor/languages/definitions/yaml/register";
import { configureMonacoYaml, type JSONSchema, type MonacoYamlOptions } from "monaco-yaml";
import EditorWorker from "monaco-editor/editor/editor.worker?worker";
import YamlWorker from "monaco-yaml/yaml.worker?worker";
import { useTranslation } from "react-i18next";
import { Loading } from "@/components/States";
import white from "@patternfly/react-tokens/dist/esm/t_color_white";
import text from "@patternfly/react-tokens/dist/esm/t_global_text_color_100";
import subtle from "@patternfly/react-tokens/dist/esm/t_global_text_color_200";
import red from "@patternfly/react-tokens/dist/esm/t_color_red_60";
import orange from "@patternfly/react-tokens/dist/esm/t_color_orange_60";
import yellow from "@patternfly/react-tokens/dist/esm/t_color_yellow_60";
import green from "@patternfly/react-tokens/dist/esm/t_color_green_60";
import teal from "@patternfly/react-tokens/dist/esm/t_color_teal_60";
import blue from "@patternfly/react-tokens/dist/esm/t_color_blue_50";
import purple from "@patternfly/react-tokens/dist/esm/t_color_purple_50";
import gray from "@patternfly/react-tokens/dist/esm/t_color_gray_50";

self.MonacoEnvironment = { getWorker: () => new EditorWorker() };
loader.config({ monaco });

/**
 * monaco-yaml asks Monaco for its worker the way Monaco before 0.55 made them
 * (`createWebWorker({ label, moduleId, createData })`); Monaco now takes the Worker itself.
 * So monaco-yaml is given a Monaco whose createWebWorker starts the YAML worker and hands it
 * its create data as that worker expects: a first message to wake it, then the data.
 */
interface LegacyWorkerOptions {
  createData?: unknown;
  host?: Parameters<typeof monaco.editor.createWebWorker>[0]["host"];
  keepIdleModels?: boolean;
}
function createYamlWorker({ createData, host, keepIdleModels }: LegacyWorkerOptions) {
  const worker = new YamlWorker();
  worker.postMessage("wake");
  worker.postMessage(createData);
  return monaco.editor.createWebWorker({ worker, host, keepIdleModels });
}
const monacoForYaml = { ...monaco, editor: { ...monaco.editor, createWebWorker: createYamlWorker } };

/** monaco-yaml is configured once per page; each open editor adds its model's schema. */
const schemas = new Map<string, JSONSchema>();
const options = (): MonacoYamlOptions => ({
  enableSchemaRequest: false,
  isKubernetes: true,
  hoverSchemaSource: false,
  format: { enable: true },
  schemas: [...schemas].map(([path, schema]) => ({ uri: `${path}.schema.json`, fileMatch: [path], schema })),
});
const monacoYaml = configureMonacoYaml(monacoForYaml as typeof monaco, options());

function useSchema(path: string, schema: JSONSchema | undefined): void {
  useEffect(() => {
    if (!schema) return;
    schemas.set(path, schema);
    void monacoYaml.update(options());
    return () => {
      schemas.delete(path);
      void monacoYaml.update(options());
    };
  }, [path, schema]);
}

/**
 * PatternFly's light editor theme colours YAML keys, numbers and strings with its 50 shades
 * of yellow, orange and green: 3.3 to 3.7 : 1 on white, below WCAG AA's 4.5. The console's
 * light theme is PatternFly's with the 60 shades (5.1 to 6.1 : 1), the rest unchanged.
 */
const LIGHT_THEME = "atoll-light";
monaco.editor.defineTheme(LIGHT_THEME, {
  base: "vs",
  inherit: true,
  colors: {
    "editor.background": white.value,
    "editor.foreground": text.value,
    "editorLineNumber.activeForeground": text.value,
    "editorLineNumber.foreground": subtle.value,
  },
  rules: [
    { token: "", foreground: text.value, background: white.value },
    { token: "invalid", foreground: red.value },
    { token: "comment", foreground: gray.value },
    { token: "type", foreground: yellow.value }, // keys
    { token: "number", foreground: orange.value },
    { token: "constant", foreground: orange.value },
    { token: "string", foreground: green.value },
    { token: "keyword", foreground: purple.value }, // true, false, null
    { token: "delimiter", foreground: text.value },
    { token: "tag", foreground: red.value },
    { token: "variable", foreground: blue.value },
    { token: "variable.predefined", foreground: teal.value },
  ].map((rule) => ({ ...rule, foreground: rule.foreground.replace("#", "") })),
});

/** Whether the console is dark (PatternFly's class on <html>), following changes. */
function subscribeTheme(changed: () => void): () => void {
  const observer = new MutationObserver(changed);
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ["class"] });
  return () => observer.disconnect();
}
const isDark = () => document.documentElement.classList.contains("pf-v6-theme-dark");

export interface YamlEditorProps {
  value: string;
  onChange?(value: string): void;
  readOnly?: boolean;
  /** The JSON schema of the object's kind (lib/k8s/schema.ts). */
  schema?: Record<string, unknown>;
  ariaLabel: string;
}

class Fallback extends Component<{ value: string; ariaLabel: string; notice: string; children: ReactNode }, { failed: boolean }> {
  state = { failed: false };

  static getDerivedStateFromError() {
    return { failed: true };
  }

  render() {
    if (!this.state.failed) return this.props.children;
    return (
      <>
        <Alert isInline isPlain variant="warning" title={this.props.notice} />
        <pre aria-label={this.props.ariaLabel} data-testid="yaml-plain" style={{ maxHeight: "60vh", overflow: "auto" }}>
          {this.props.value}
        </pre>
      </>
    );
  }
}

function MonacoYaml({ value, onChange, readOnly = false, schema, ariaLabel }: YamlEditorProps) {
  const dark = useSyncExternalStore(subscribeTheme, isDark);
  // Each editor has its own model, and its schema is matched to that model's path.
  const path = `file:///atoll/${useId().replace(/[^a-zA-Z0-9]/g, "")}.yaml`;
  useSchema(path, schema as JSONSchema | undefined);
  return (
    <CodeEditor
      code={value}
      onCodeChange={onChange}
      language={Language.yaml}
      isReadOnly={readOnly}
      isDarkTheme={dark}
      height="60vh"
      loading={<Loading />}
      editorProps={{ path, theme: dark ? "pf-v6-theme-dark" : LIGHT_THEME }}
      options={{ ariaLabel, tabSize: 2, scrollBeyondLastLine: false, automaticLayout: true }}
    />
  );
}

export function YamlEditor(props: YamlEditorProps) {
  const { t } = useTranslation();
  return (
    <div data-testid="yaml-editor">
      <Fallback value={props.value} ariaLabel={props.ariaLabel} notice={t("resources:yaml.editorFailed")}>
        <MonacoYaml {...props} />
      </Fallback>
    </div>
  );
}
