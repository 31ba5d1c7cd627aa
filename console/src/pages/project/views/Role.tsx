/** A Role's overview: its rules, one row each (API groups, resources, names, verbs). */
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";
import { useTranslation } from "react-i18next";
import type { DetailTabProps } from "@/lib/extensions/types";
import { Metadata } from "@/pages/resources/Overview";
import { Section } from "../parts/Details";

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  verbs?: string[];
  nonResourceURLs?: string[];
}

export default function RoleOverview({ object: role, cluster }: DetailTabProps) {
  const { t } = useTranslation();
  const rules = (role.rules ?? []) as Rule[];
  const groups = (rule: Rule) => (rule.apiGroups ?? []).map((group) => group || "core").join(", ");
  return (
    <>
      <Metadata object={role} cluster={cluster} />
      <Section title={t("project:role.rules")}>
        {!rules.length ? (
          <p>{t("project:role.noRules")}</p>
        ) : (
          <Table variant="compact" aria-label={t("project:role.rules")} data-testid="role-rules">
            <Thead>
              <Tr>
                <Th>{t("project:role.apiGroups")}</Th>
                <Th>{t("project:role.resources")}</Th>
                <Th>{t("project:role.names")}</Th>
                <Th>{t("project:role.verbs")}</Th>
              </Tr>
            </Thead>
            <Tbody>
              {rules.map((rule, at) => (
                <Tr key={at}>
                  <Td>{groups(rule)}</Td>
                  <Td>{(rule.resources ?? rule.nonResourceURLs ?? []).join(", ")}</Td>
                  <Td>{(rule.resourceNames ?? []).join(", ")}</Td>
                  <Td>{(rule.verbs ?? []).join(", ")}</Td>
                </Tr>
              ))}
            </Tbody>
          </Table>
        )}
      </Section>
    </>
  );
}
