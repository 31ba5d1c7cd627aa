/**
 * The YAML tab of every detail page: the object as YAML, live while it is only looked at.
 * Those allowed to update it may edit and save it. A save is a PUT carrying the
 * resourceVersion the edit started from, so a change made meanwhile by someone else is never
 * overwritten: the server answers 409, and the user chooses to reload the newest version.
 */
import { useMemo, useState } from "react";
import { Alert, AlertActionLink, Button, Flex, FlexItem } from "@patternfly/react-core";
import { DownloadIcon } from "@patternfly/react-icons";
import { useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { YamlEditor } from "@/components/YamlEditor";
import { useCan } from "@/lib/api/access";
import { api } from "@/lib/api/client";
import { ApiError, describe } from "@/lib/api/errors";
import { objectKey } from "@/lib/api/hooks";
import type { DetailTabProps } from "@/lib/extensions/types";
import { useKindSchema } from "@/lib/k8s/schema";
import type { K8sObject } from "@/lib/k8s/types";
import { YamlProblem, type Problem } from "./YamlProblem";
import { parseObject, toYaml } from "./yamlText";

interface Draft {
  text: string;
  /** The resourceVersion the edit started from. */
  base?: string;
}

function download(name: string, text: string): void {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([text], { type: "application/yaml" }));
  link.download = `${name}.yaml`;
  link.click();
  URL.revokeObjectURL(link.href);
}

export default function Yaml({ kind, object, cluster }: DetailTabProps) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const { name } = object.metadata;
  const namespace = kind.namespaced ? object.metadata.namespace : undefined;
  const mayUpdate = useCan({ cluster, verb: "update", group: kind.group, resource: kind.plural, namespace, name });
  const schema = useKindSchema(kind, cluster);
  const live = useMemo(() => toYaml(object), [object]);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);

  /** The newest object, shown at once (the watch catches up on its own). */
  function show(newest: K8sObject): void {
    client.setQueryData(objectKey(kind, cluster, namespace, name), newest);
  }

  function edit(): void {
    setDraft({ text: live, base: object.metadata.resourceVersion });
    setProblem(null);
    setSaved(false);
  }

  function cancel(): void {
    setDraft(null);
    setProblem(null);
  }

  async function save(): Promise<void> {
    if (!draft) return;
    const parsed = parseObject(draft.text);
    if (!parsed.ok) {
      setProblem(parsed);
      return;
    }
    const body = { ...parsed.object, metadata: { ...parsed.object.metadata, resourceVersion: draft.base } };
    setBusy(true);
    setProblem(null);
    try {
      show(await api.put<K8sObject>(kind.path(cluster, namespace, name), body));
      setDraft(null);
      setSaved(true);
    } catch (error) {
      setProblem(error instanceof ApiError && error.conflict ? { problem: "conflict" } : { problem: "saveFailed", message: describe(error) });
    } finally {
      setBusy(false);
    }
  }

  async function reload(): Promise<void> {
    setBusy(true);
    try {
      const newest = await api.get<K8sObject>(kind.path(cluster, namespace, name));
      show(newest);
      setDraft({ text: toYaml(newest), base: newest.metadata.resourceVersion });
      setProblem(null);
    } catch (error) {
      setProblem({ problem: "reloadFailed", message: describe(error) });
    } finally {
      setBusy(false);
    }
  }

  // While editing, the live object moving on means the save will be refused: say so now.
  const outdated = draft !== null && problem?.problem !== "conflict" && object.metadata.resourceVersion !== draft.base;
  return (
    <Flex direction={{ default: "column" }} spaceItems={{ default: "spaceItemsMd" }}>
      <Flex spaceItems={{ default: "spaceItemsSm" }}>
        {draft ? (
          <>
            <FlexItem>
              <Button variant="primary" onClick={() => void save()} isLoading={busy} isDisabled={busy} data-testid="yaml-save">
                {t("yaml.save")}
              </Button>
            </FlexItem>
            <FlexItem>
              <Button variant="link" onClick={cancel} isDisabled={busy} data-testid="yaml-cancel">
                {t("cancel")}
              </Button>
            </FlexItem>
          </>
        ) : (
          mayUpdate && (
            <FlexItem>
              <Button variant="secondary" onClick={edit} data-testid="yaml-edit">
                {t("edit")}
              </Button>
            </FlexItem>
          )
        )}
        <FlexItem align={{ default: "alignRight" }}>
          <Button variant="plain" icon={<DownloadIcon />} onClick={() => download(name, draft?.text ?? live)} data-testid="yaml-download">
            {t("resources:yaml.download")}
          </Button>
        </FlexItem>
      </Flex>
      {saved && <Alert isInline isPlain variant="success" title={t("yaml.saved")} data-testid="yaml-saved" />}
      {outdated && (
        <Alert
          isInline
          variant="info"
          title={t("yaml.changedOnServer")}
          actionLinks={
            <AlertActionLink onClick={() => void reload()} data-testid="yaml-reload">
              {t("yaml.reload")}
            </AlertActionLink>
          }
          data-testid="yaml-outdated"
        />
      )}
      {problem && <YamlProblem problem={problem} onReload={() => void reload()} />}
      <YamlEditor
        value={draft?.text ?? live}
        onChange={(text) => setDraft((current) => (current ? { ...current, text } : current))}
        readOnly={!draft || busy}
        schema={schema}
        ariaLabel={t("resources:yaml.editorLabel", { kind: kind.kind, name })}
      />
    </Flex>
  );
}
