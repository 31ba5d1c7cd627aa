/**
 * A role's rules as a verbs × resources table, and a list column whose button opens the
 * table in a dialog, so a list of roles (GlobalRoles, WorkspaceRoles, ClusterRoles) reads
 * without leaving it.
 */
import { useState } from "react";
import { Button, Label, Modal, ModalBody, ModalHeader } from "@patternfly/react-core";
import { CheckIcon } from "@patternfly/react-icons";
import { Table, Tbody, Td, Th, Thead, Tr, type IAction } from "@patternfly/react-table";
import { useTranslation } from "react-i18next";
import type { Column } from "@/components/ResourceTable";
import type { K8sObject } from "@/lib/k8s/types";
import { STANDARD_VERBS, allows, grantsEverything, isBuiltIn, otherVerbs, ruleRows, type PolicyRule, type RuleRow } from "./rules";

function Subject({ row }: { row: RuleRow }) {
  const { t } = useTranslation();
  if (row.kind === "url") return <>{t("platform:rules.url", { url: row.resource })}</>;
  const resource = row.resource === "*" ? t("platform:rules.allResources") : row.resource;
  const group = row.group === "*" ? t("platform:rules.allGroups") : row.group === "" ? t("platform:rules.coreGroup") : row.group;
  return (
    <>
      <strong>{resource}</strong> <span style={{ opacity: 0.7 }}>({group})</span>
      {row.names.length > 0 && <div>{t("platform:rules.only", { names: row.names.join(", ") })}</div>}
    </>
  );
}

export function RulesTable({ rules }: { rules: PolicyRule[] | undefined }) {
  const { t } = useTranslation();
  const rows = ruleRows(rules);
  if (!rows.length) return <p>{t("platform:rules.none")}</p>;
  return (
    <Table variant="compact" aria-label={t("platform:rules.title")} data-testid="rules-table">
      <Thead>
        <Tr>
          <Th>{t("platform:rules.resource")}</Th>
          {STANDARD_VERBS.map((verb) => (
            <Th key={verb} textCenter>
              {verb}
            </Th>
          ))}
          <Th>{t("platform:rules.otherVerbs")}</Th>
        </Tr>
      </Thead>
      <Tbody>
        {rows.map((row) => (
          <Tr key={row.key} data-row={row.key}>
            <Td dataLabel={t("platform:rules.resource")}>
              <Subject row={row} />
            </Td>
            {STANDARD_VERBS.map((verb) => (
              <Td key={verb} dataLabel={verb} textCenter>
                {allows(row, verb) ? (
                  <CheckIcon title={t("platform:rules.allowed")} />
                ) : (
                  <span className="pf-v6-screen-reader">{t("platform:rules.notAllowed")}</span>
                )}
              </Td>
            ))}
            <Td dataLabel={t("platform:rules.otherVerbs")}>
              {row.verbs.includes("*") ? t("platform:rules.allVerbs") : otherVerbs(row).join(", ")}
            </Td>
          </Tr>
        ))}
      </Tbody>
    </Table>
  );
}

/** Built in, administrator, aggregated: what a role is at a glance. */
export function RoleBadges({ role }: { role: K8sObject }) {
  const { t } = useTranslation();
  return (
    <>
      {isBuiltIn(role) && (
        <Label isCompact color="blue" data-status="built-in">
          {t("platform:rules.builtIn")}
        </Label>
      )}{" "}
      {grantsEverything(role.rules) && (
        <Label isCompact color="orange">
          {t("platform:rules.everything")}
        </Label>
      )}{" "}
      {role.aggregationRule && <Label isCompact>{t("platform:rules.aggregated")}</Label>}
    </>
  );
}

function RulesButton({ role }: { role: K8sObject }) {
  const { t } = useTranslation();
  const [open, setOpen] = useState(false);
  const count = ruleRows(role.rules).length;
  return (
    <>
      <Button variant="link" isInline onClick={() => setOpen(true)} data-testid={`rules-${role.metadata.name}`}>
        {t("platform:rules.count", { count })}
      </Button>
      {open && (
        <Modal isOpen variant="large" onClose={() => setOpen(false)} aria-labelledby="rules-title">
          <ModalHeader title={t("platform:rules.of", { name: role.metadata.name })} labelId="rules-title" />
          <ModalBody>
            <RulesTable rules={role.rules} />
          </ModalBody>
        </Modal>
      )}
    </>
  );
}

/** The columns a list of roles shows after the name. */
export function roleColumns(t: (key: string) => string): Column[] {
  return [
    { id: "kind", title: t("platform:rules.kindColumn"), width: 25, render: (role) => <RoleBadges role={role} /> },
    { id: "rules", title: t("platform:rules.title"), width: 20, render: (role) => <RulesButton role={role} /> },
  ];
}

/** The row action a built-in role shows instead of Delete: disabled, saying why. */
export function builtInDelete(title: string, why: string): IAction {
  return { title, isAriaDisabled: true, tooltipProps: { content: why } };
}
