/**
 * Why YAML was not saved or created, in words, above the editor: a syntax error with its
 * line, a YAML that is not one object or names the wrong kind or namespace (refused before
 * anything is sent), or the server's own message. A conflict offers to reload.
 */
import { Alert, AlertActionLink } from "@patternfly/react-core";
import { useTranslation } from "react-i18next";
import type { Parsed } from "./yamlText";

export type Problem =
  | Extract<Parsed, { ok: false }>
  | { problem: "conflict" }
  | { problem: "saveFailed" | "reloadFailed" | "createFailed"; message: string }
  | { problem: "wrongKind"; wanted: string; found: string }
  | { problem: "otherNamespace"; namespace: string; found: string }
  | { problem: "noNamespace" };

function title(problem: Problem, t: (key: string, values?: Record<string, unknown>) => string): string {
  switch (problem.problem) {
    case "syntax":
      return t("resources:yaml.syntax", { line: problem.line });
    case "several":
      return t("resources:yaml.several");
    case "notAnObject":
      return t("resources:yaml.notAnObject");
    case "conflict":
      return t("yaml.changedOnServer");
    case "saveFailed":
      return t("resources:yaml.saveFailed");
    case "reloadFailed":
      return t("resources:yaml.reloadFailed");
    case "createFailed":
      return t("resources:create.failed");
    case "wrongKind":
      return t("resources:create.wrongKind", { wanted: problem.wanted, found: problem.found });
    case "otherNamespace":
      return t("resources:create.otherNamespace", { namespace: problem.namespace, found: problem.found });
    case "noNamespace":
      return t("resources:create.noNamespace");
  }
}

export function YamlProblem({ problem, onReload }: { problem: Problem; onReload?: () => void }) {
  const { t } = useTranslation();
  const conflict = problem.problem === "conflict";
  return (
    <Alert
      isInline
      variant={conflict ? "warning" : "danger"}
      title={title(problem, t)}
      data-testid="yaml-problem"
      data-problem={problem.problem}
      actionLinks={
        conflict && onReload ? (
          <AlertActionLink onClick={onReload} data-testid="yaml-reload">
            {t("yaml.reload")}
          </AlertActionLink>
        ) : undefined
      }
    >
      {problem.problem === "syntax" ? <pre style={{ whiteSpace: "pre-wrap" }}>{problem.message}</pre> : "message" in problem && problem.message}
    </Alert>
  );
}
