/**
 * A ServiceAccount's overview: its token Secrets and image pull Secrets (linked) and whether
 * pods get its token mounted.
 */
import { Label, LabelGroup } from "@patternfly/react-core";
import { useTranslation } from "react-i18next";
import type { DetailTabProps } from "@/lib/extensions/types";
import { Secret } from "@/lib/k8s/kinds";
import { Metadata } from "@/pages/resources/Overview";
import { Facts, Section } from "../parts/Details";
import { ObjectLink } from "../parts/Links";

function SecretLinks({ names, namespace, cluster }: { names: string[]; namespace: string; cluster: string }) {
  const { t } = useTranslation();
  if (!names.length) return <>{t("none")}</>;
  return (
    <LabelGroup numLabels={20}>
      {names.map((name) => (
        <Label key={name} isCompact>
          <ObjectLink kind={Secret} name={name} namespace={namespace} cluster={cluster} />
        </Label>
      ))}
    </LabelGroup>
  );
}

export default function AccountOverview({ object: account, cluster }: DetailTabProps) {
  const { t } = useTranslation();
  const namespace = account.metadata.namespace ?? "";
  const names = (list: { name?: string }[] | undefined) => (list ?? []).map((entry) => entry.name ?? "").filter(Boolean);
  const automount = account.automountServiceAccountToken;
  return (
    <>
      <Metadata object={account} cluster={cluster} />
      <Section title={t("project:account.details")}>
        <Facts
          items={[
            [t("project:col.secrets"), <SecretLinks key="secrets" names={names(account.secrets)} namespace={namespace} cluster={cluster} />],
            [t("project:col.pullSecrets"), <SecretLinks key="pull" names={names(account.imagePullSecrets)} namespace={namespace} cluster={cluster} />],
            [t("project:account.automount"), automount === false ? t("no") : t("yes")],
          ]}
        />
      </Section>
    </>
  );
}
