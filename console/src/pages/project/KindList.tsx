/**
 * The list pages of the project's navigation (Deployments, Pods, Services…): the generic
 * `ResourceList` of one kind under a stable path, with a translated title. One module for all
 * of them; `index.ts` makes one page per kind with `listPage`.
 */
import type { ComponentType } from "react";
import { useParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import type { PageProps } from "@/lib/extensions/types";
import type { Kind } from "@/lib/k8s/kinds";
import { ResourceList } from "@/pages/resources/ListPage";

export function listPage(kind: Kind, title: string): ComponentType<PageProps> {
  function KindListPage() {
    const { t } = useTranslation();
    const { cluster = "", namespace = "" } = useParams();
    return <ResourceList kind={kind} cluster={cluster} namespace={namespace} title={t(title)} />;
  }
  KindListPage.displayName = `KindListPage(${kind.resource})`;
  return KindListPage;
}
