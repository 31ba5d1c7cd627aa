/** An Event's overview: what happened to which object, how often, when, and who said so. */
import { Label } from "@patternfly/react-core";
import { useTranslation } from "react-i18next";
import type { DetailTabProps } from "@/lib/extensions/types";
import { age } from "@/lib/format";
import { Metadata } from "@/pages/resources/Overview";
import { lastSeen } from "../columns";
import { Facts, Section } from "../parts/Details";
import { ObjectLink } from "../parts/Links";
import { kindOf } from "../related";

export default function EventOverview({ object: event, cluster }: DetailTabProps) {
  const { t } = useTranslation();
  const involved = event.involvedObject ?? event.regarding ?? {};
  const kind = kindOf(involved.apiVersion, involved.kind);
  const source = event.source?.component ?? event.reportingController ?? event.reportingComponent;
  const first = event.firstTimestamp ?? event.eventTime;
  return (
    <>
      <Section title={t("project:event.details")}>
        <Facts
          items={[
            [t("project:col.type"), <Label key="type" isCompact color={event.type === "Warning" ? "orange" : "grey"}>{event.type}</Label>],
            [t("project:col.reason"), event.reason],
            [
              t("project:col.object"),
              involved.name ? (
                <span key="object">
                  {involved.kind}{" "}
                  {kind ? <ObjectLink kind={kind} name={involved.name} namespace={involved.namespace ?? event.metadata.namespace} cluster={cluster} /> : involved.name}
                </span>
              ) : undefined,
            ],
            [t("project:col.message"), event.message ?? event.note],
            [t("project:col.count"), event.count ?? event.series?.count ?? 1],
            [t("project:event.first"), first ? t("time.ago", { value: age(first) }) : undefined],
            [t("project:col.lastSeen"), t("time.ago", { value: age(lastSeen(event)) })],
            [t("project:event.source"), source],
          ]}
        />
      </Section>
      <Section title={t("detail.metadata")}>
        <Metadata object={event} cluster={cluster} />
      </Section>
    </>
  );
}
