/**
 * A workload's revisions, newest first, one of which the user picks; below, what rolling
 * back to it would change in the pod template. The current revision is marked and cannot
 * be picked. Shared by the Roll back dialog and the Revisions tab.
 */
import { useMemo } from "react";
import { Label, Radio, Title } from "@patternfly/react-core";
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";
import { useTranslation } from "react-i18next";
import { age } from "@/lib/format";
import type { K8sObject } from "@/lib/k8s/types";
import { DiffView } from "./DiffView";
import { cleanTemplate, type PodTemplate, type Revision } from "./revisions";
import { templateDiff } from "./templateDiff";

export interface RevisionHistoryProps {
  object: K8sObject;
  revisions: Revision[];
  /** The picked revision's name. */
  selected: string | null;
  onSelect(name: string): void;
}

function RevisionDiff({ object, revision }: { object: K8sObject; revision: Revision }) {
  const { t } = useTranslation();
  const lines = useMemo(
    () => templateDiff(cleanTemplate(object.spec?.template as PodTemplate | undefined), revision.template),
    [object.spec?.template, revision.template],
  );
  const heading = t("workload:revisions.diffTitle", { number: revision.number });
  return (
    <section style={{ marginTop: 24 }} data-testid="revision-diff">
      <Title headingLevel="h3" size="md">
        {heading}
      </Title>
      <p style={{ opacity: 0.8, margin: "4px 0 8px" }}>{t("workload:revisions.diffLegend")}</p>
      <DiffView lines={lines} label={heading} />
    </section>
  );
}

export function RevisionHistory({ object, revisions, selected, onSelect }: RevisionHistoryProps) {
  const { t } = useTranslation();
  if (revisions.length === 0) return <p data-testid="revisions-none">{t("workload:revisions.none")}</p>;
  const picked = revisions.find((revision) => revision.name === selected && !revision.current);
  return (
    <>
      <Table aria-label={t("workload:revisions.title")} variant="compact" data-testid="revisions">
        <Thead>
          <Tr>
            <Th screenReaderText={t("workload:revisions.pick")} />
            <Th>{t("workload:revisions.number")}</Th>
            <Th>{t("workload:revisions.changeCause")}</Th>
            <Th>{t("workload:revisions.images")}</Th>
            <Th>{t("created")}</Th>
          </Tr>
        </Thead>
        <Tbody>
          {revisions.map((revision) => (
            <Tr
              key={revision.name}
              data-row={revision.name}
              data-revision={revision.number}
              isSelectable={!revision.current}
              isClickable={!revision.current}
              isRowSelected={revision.name === picked?.name}
              onRowClick={() => !revision.current && onSelect(revision.name)}
            >
              <Td className="pf-v6-c-table__check">
                <Radio
                  id={`revision-${revision.name}`}
                  name="revision"
                  aria-label={t("workload:revisions.pickOne", { number: revision.number })}
                  isChecked={revision.name === picked?.name}
                  isDisabled={revision.current}
                  onChange={() => onSelect(revision.name)}
                  data-testid={`revision-${revision.number}`}
                />
              </Td>
              <Td dataLabel={t("workload:revisions.number")}>
                #{revision.number}{" "}
                {revision.current && (
                  <Label color="blue" isCompact data-testid="revision-current">
                    {t("workload:revisions.current")}
                  </Label>
                )}
              </Td>
              <Td dataLabel={t("workload:revisions.changeCause")}>{revision.changeCause ?? "—"}</Td>
              <Td dataLabel={t("workload:revisions.images")} className="atoll-mono">
                {revision.images.join(", ")}
              </Td>
              <Td dataLabel={t("created")}>{revision.created ? t("time.ago", { value: age(revision.created) }) : "—"}</Td>
            </Tr>
          ))}
        </Tbody>
      </Table>
      {picked ? <RevisionDiff object={object} revision={picked} /> : <p style={{ marginTop: 16 }}>{t("workload:revisions.pickHint")}</p>}
    </>
  );
}
