/** The events about an object, newest first, live. */
import { Label } from "@patternfly/react-core";
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";
import { useTranslation } from "react-i18next";
import { ErrorState, Loading } from "@/components/States";
import { useAll } from "@/lib/api/hooks";
import type { DetailTabProps } from "@/lib/extensions/types";
import { Event } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";
import { age } from "@/lib/format";

function when(event: K8sObject): string {
  return event.lastTimestamp || event.eventTime || event.metadata.creationTimestamp || "";
}

export function EventTable({ events }: { events: K8sObject[] }) {
  const { t } = useTranslation();
  if (!events.length) return <p>{t("events.none")}</p>;
  const sorted = [...events].sort((a, b) => when(b).localeCompare(when(a)));
  return (
    <Table variant="compact" aria-label={t("detail.events")}>
      <Thead>
        <Tr>
          <Th width={10}>{t("events.type")}</Th>
          <Th width={15}>{t("events.reason")}</Th>
          <Th>{t("events.message")}</Th>
          <Th width={10}>{t("events.count")}</Th>
          <Th width={10}>{t("events.last")}</Th>
        </Tr>
      </Thead>
      <Tbody>
        {sorted.map((event) => (
          <Tr key={event.metadata.name}>
            <Td>
              <Label isCompact color={event.type === "Warning" ? "orange" : "grey"}>
                {event.type}
              </Label>
            </Td>
            <Td>{event.reason}</Td>
            <Td>{event.message}</Td>
            <Td>{event.count ?? 1}</Td>
            <Td>{age(when(event))}</Td>
          </Tr>
        ))}
      </Tbody>
    </Table>
  );
}

export default function Events({ kind, object, cluster }: DetailTabProps) {
  const namespace = object.metadata.namespace ?? "default";
  const events = useAll(Event, {
    cluster,
    namespace,
    fieldSelector: `involvedObject.name=${object.metadata.name},involvedObject.kind=${kind.kind}`,
  });
  if (events.isPending) return <Loading />;
  if (events.error) return <ErrorState error={events.error} />;
  return <EventTable events={events.data.items} />;
}
