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
      editorProps={{ path }}
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
