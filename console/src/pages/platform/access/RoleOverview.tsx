/**
 * The overview tab of any role kind (GlobalRole, WorkspaceRole, ClusterRole): its metadata,
 * what it is, where an aggregated role gathers its rules from, and the rules as a table.
 */
import { Title } from "@patternfly/react-core";
import { useTranslation } from "react-i18next";
import type { DetailTabProps } from "@/lib/extensions/types";
import { Metadata } from "@/pages/resources/Overview";
import { aggregationSelectors } from "./rules";
import { RoleBadges, RulesTable } from "./RulesTable";

export default function RoleOverview({ object, cluster }: DetailTabProps) {
  const { t } = useTranslation();
  const selectors = aggregationSelectors(object);
  return (
    <>
      <Metadata object={object} cluster={cluster} />
      <div style={{ margin: "16px 0" }}>
        <RoleBadges role={object} />
      </div>
      {object.aggregationRule && (
        <p>{t("platform:rules.aggregatedFrom", { selectors: selectors.join("; ") || t("none") })}</p>
      )}
      <Title headingLevel="h2" size="lg" style={{ margin: "24px 0 8px" }}>
        {t("platform:rules.title")}
      </Title>
      <RulesTable rules={object.rules} />
    </>
  );
}
