/**
 * The Revisions tab of a Deployment, StatefulSet or DaemonSet: its history, live, and what
 * each earlier revision differs in; those allowed may roll back to the one they look at.
 */
import { useState } from "react";
import { Button, Toolbar, ToolbarContent, ToolbarItem } from "@patternfly/react-core";
import { UndoIcon } from "@patternfly/react-icons";
import { useTranslation } from "react-i18next";
import { ErrorState, Loading } from "@/components/States";
import { useCan } from "@/lib/api/access";
import type { DetailTabProps } from "@/lib/extensions/types";
import { RevisionHistory } from "./RevisionHistory";
import { RollbackDialog } from "./RollbackDialog";
import { useRevisions } from "./useRevisions";

export default function RevisionsTab({ kind, object, cluster }: DetailTabProps) {
  const { t } = useTranslation();
  const { revisions, pending, error, retry } = useRevisions(kind, object, cluster);
  const [selected, setSelected] = useState<string | null>(null);
  const [rollingTo, setRollingTo] = useState<string | null>(null);
  const mayPatch = useCan({
    cluster,
    verb: "patch",
    group: kind.group,
    resource: kind.plural,
    namespace: object.metadata.namespace,
    name: object.metadata.name,
  });
  if (pending) return <Loading />;
  if (error) return <ErrorState error={error} retry={retry} />;
  const picked = revisions.find((revision) => revision.name === selected && !revision.current);

  return (
    <>
      {mayPatch && (
        <Toolbar>
          <ToolbarContent>
            <ToolbarItem>
              <Button
                variant="secondary"
                icon={<UndoIcon />}
                isDisabled={!picked}
                onClick={() => setRollingTo(picked?.name ?? null)}
                data-testid="revision-rollback"
              >
                {picked ? t("workload:rollback.confirmTo", { number: picked.number }) : t("workload:rollback.toThis")}
              </Button>
            </ToolbarItem>
          </ToolbarContent>
        </Toolbar>
      )}
      <RevisionHistory object={object} revisions={revisions} selected={selected} onSelect={setSelected} />
      {rollingTo && (
        <RollbackDialog kind={kind} object={object} cluster={cluster} initial={rollingTo} onClose={() => setRollingTo(null)} />
      )}
    </>
  );
}
