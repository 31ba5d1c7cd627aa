/**
 * A PersistentVolumeClaim's overview: status, capacity asked and given, access modes, the
 * volume and storage class it is bound through, and the pods that mount it, live.
 */
import { useTranslation } from "react-i18next";
import { StatusLabel } from "@/components/StatusLabel";
import { useAll } from "@/lib/api/hooks";
import type { DetailTabProps } from "@/lib/extensions/types";
import { PersistentVolume, Pod, StorageClass } from "@/lib/k8s/kinds";
import { Conditions, Metadata } from "@/pages/resources/Overview";
import { accessModes, claimStatus, podColumns } from "../columns";
import { Facts, Section } from "../parts/Details";
import { Fetched, Truncated } from "../parts/Fetched";
import { ObjectLink } from "../parts/Links";
import { ObjectTable } from "../parts/ObjectTable";
import { podsMounting } from "../related";

export default function ClaimOverview({ object: claim, cluster }: DetailTabProps) {
  const { t } = useTranslation();
  const namespace = claim.metadata.namespace ?? "";
  // No selector finds a claim's pods: read the project's pods (one bounded read) and look.
  const pods = useAll(Pod, { cluster, namespace });
  const spec = claim.spec ?? {};
  return (
    <>
      <Metadata object={claim} cluster={cluster} />
      <Section title={t("project:claim.details")}>
        <Facts
          items={[
            [t("project:col.status"), <StatusLabel key="status" status={claimStatus(claim)} />],
            [t("project:col.capacity"), claim.status?.capacity?.storage],
            [t("project:claim.requested"), spec.resources?.requests?.storage],
            [t("project:col.accessModes"), accessModes(claim)],
            [t("project:claim.volumeMode"), spec.volumeMode],
            [t("project:col.volume"), spec.volumeName ? <ObjectLink key="pv" kind={PersistentVolume} name={spec.volumeName} cluster={cluster} /> : undefined],
            [
              t("project:col.storageClass"),
              spec.storageClassName ? <ObjectLink key="sc" kind={StorageClass} name={spec.storageClassName} cluster={cluster} /> : undefined,
            ],
          ]}
        />
      </Section>
      <Section title={t("project:claim.mountedBy")} testId="related-pods">
        <Fetched result={pods}>
          {(page) => (
            <>
              <ObjectTable
                kind={Pod}
                objects={podsMounting(page.items, claim.metadata.name)}
                columns={podColumns(t)}
                cluster={cluster}
                label={t("project:claim.mountedBy")}
                empty={t("project:claim.notMounted")}
              />
              <Truncated shown={page.items.length} total={page.totalItems} />
            </>
          )}
        </Fetched>
      </Section>
      <Conditions conditions={claim.status?.conditions} />
    </>
  );
}
