/** A ResourceQuota's overview: each limited resource as used of allowed, and its scopes. */
import { useTranslation } from "react-i18next";
import type { DetailTabProps } from "@/lib/extensions/types";
import { Metadata } from "@/pages/resources/Overview";
import { Facts, Section } from "../parts/Details";
import { QuotaBars } from "../parts/QuotaBars";

export default function QuotaOverview({ object: quota, cluster }: DetailTabProps) {
  const { t } = useTranslation();
  const scopes = (quota.spec?.scopes ?? []) as string[];
  return (
    <>
      <Metadata object={quota} cluster={cluster} />
      {scopes.length > 0 && (
        <Section title={t("project:quota.details")}>
          <Facts items={[[t("project:quota.scopes"), scopes.join(", ")]]} />
        </Section>
      )}
      <Section title={t("project:quota.usage")}>
        <QuotaBars quota={quota} />
      </Section>
    </>
  );
}
