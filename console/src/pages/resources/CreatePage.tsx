/**
 * Creating an object of any kind from YAML (`…/<resource>/~new`), for kinds without a form of
 * their own: a template of the kind in the editor, with the kind's schema for completion and
 * validation. In a project the object goes into the project's namespace; a YAML of another
 * kind, or naming another namespace, is refused before anything is sent.
 */
import { useState } from "react";
import { Alert, Button, Content, Flex, FlexItem, PageSection, Title } from "@patternfly/react-core";
import { useQueryClient } from "@tanstack/react-query";
import { useLocation, useNavigate, useParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { YamlEditor } from "@/components/YamlEditor";
import { ErrorState, Loading } from "@/components/States";
import { useCan } from "@/lib/api/access";
import { api } from "@/lib/api/client";
import { describe } from "@/lib/api/errors";
import { useKind } from "@/lib/k8s/discovery";
import type { Kind } from "@/lib/k8s/kinds";
import { useKindSchema } from "@/lib/k8s/schema";
import type { K8sObject } from "@/lib/k8s/types";
import { template } from "./templates";
import { detailPath, listPath } from "./views";
import { YamlProblem, type Problem } from "./YamlProblem";
import { parseObject, toYaml } from "./yamlText";

/** Where the object goes, or why it may not be sent. */
function target(kind: Kind, object: K8sObject, project?: string): { namespace?: string } | Problem {
  if (object.apiVersion !== kind.apiVersion || object.kind !== kind.kind) {
    return { problem: "wrongKind", wanted: `${kind.apiVersion} ${kind.kind}`, found: `${object.apiVersion ?? "?"} ${object.kind ?? "?"}` };
  }
  if (!kind.namespaced) return {};
  const named = object.metadata.namespace;
  if (project) return named && named !== project ? { problem: "otherNamespace", namespace: project, found: named } : { namespace: project };
  return named ? { namespace: named } : { problem: "noNamespace" };
}

export function CreateFromYaml({ kind, cluster, namespace }: { kind: Kind; cluster: string; namespace?: string }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const location = useLocation();
  const client = useQueryClient();
  const mayCreate = useCan({ cluster, verb: "create", group: kind.group, resource: kind.plural, namespace });
  const schema = useKindSchema(kind, cluster);
  const [text, setText] = useState(() => toYaml(template(kind, namespace)));
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);

  function back(): void {
    // The page opened directly has nowhere to go back to: its list is the way out.
    if (location.key !== "default") navigate(-1);
    else navigate(listPath(cluster, kind.resource, namespace));
  }

  async function create(): Promise<void> {
    const parsed = parseObject(text);
    if (!parsed.ok) {
      setProblem(parsed);
      return;
    }
    const where = target(kind, parsed.object, namespace);
    if ("problem" in where) {
      setProblem(where);
      return;
    }
    const body = where.namespace ? { ...parsed.object, metadata: { ...parsed.object.metadata, namespace: where.namespace } } : parsed.object;
    setBusy(true);
    setProblem(null);
    try {
      const created = await api.post<K8sObject>(kind.path(cluster, where.namespace), body);
      void client.invalidateQueries({ queryKey: ["list", cluster, kind.resource] });
      navigate(detailPath(cluster, kind.resource, created.metadata.name, where.namespace));
    } catch (error) {
      setProblem({ problem: "createFailed", message: describe(error) });
      setBusy(false);
    }
  }

  return (
    <>
      <PageSection>
        <Title headingLevel="h1">{t("resources:create.title", { kind: kind.kind })}</Title>
        <Content component="p">{t("resources:create.help")}</Content>
      </PageSection>
      <PageSection>
        <Flex direction={{ default: "column" }} spaceItems={{ default: "spaceItemsMd" }}>
          {mayCreate === false && <Alert isInline variant="warning" title={t("resources:create.notAllowed", { kind: kind.kind })} />}
          {problem && <YamlProblem problem={problem} />}
          <YamlEditor value={text} onChange={setText} schema={schema} ariaLabel={t("resources:create.editorLabel", { kind: kind.kind })} />
          <Flex spaceItems={{ default: "spaceItemsSm" }}>
            {mayCreate && (
              <FlexItem>
                <Button variant="primary" onClick={() => void create()} isLoading={busy} isDisabled={busy} data-testid="yaml-create">
                  {t("create")}
                </Button>
              </FlexItem>
            )}
            <FlexItem>
              <Button variant="link" onClick={back} isDisabled={busy} data-testid="yaml-cancel">
                {t("cancel")}
              </Button>
            </FlexItem>
          </Flex>
        </Flex>
      </PageSection>
    </>
  );
}

export default function CreatePage() {
  const { cluster = "", namespace, resource = "" } = useParams();
  const found = useKind(cluster, resource);
  if (found.pending) return <Loading />;
  if (!found.kind) return <ErrorState error={found.error} />;
  // A new page (another kind or project) starts from its own template.
  return <CreateFromYaml key={`${cluster}/${namespace ?? ""}/${resource}`} kind={found.kind} cluster={cluster} namespace={namespace} />;
}
