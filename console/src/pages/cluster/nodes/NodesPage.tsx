/** Cluster › Nodes: the generic list of Node with the nodes view's columns and actions. */
import { useParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { Node } from "@/lib/k8s/kinds";
import { ResourceList } from "@/pages/resources/ListPage";

export default function NodesPage() {
  const { t } = useTranslation();
  const { cluster = "" } = useParams();
  return <ResourceList kind={Node} cluster={cluster} title={t("cluster:nodes.title")} />;
}
