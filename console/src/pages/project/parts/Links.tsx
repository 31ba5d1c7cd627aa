/**
 * Links to related objects' detail pages. The cluster comes from the page's URL when not
 * given, so list columns (which are handed only the object) can link too.
 */
import { Link, useParams } from "react-router-dom";
import type { Kind } from "@/lib/k8s/kinds";
import { detailPath } from "@/pages/resources/views";

export function ObjectLink({ kind, name, namespace, cluster }: { kind: Kind; name: string; namespace?: string; cluster?: string }) {
  const params = useParams();
  const where = cluster ?? params.cluster ?? "";
  return (
    <Link to={detailPath(where, kind.resource, name, kind.namespaced ? namespace : undefined)} data-testid={`link-${name}`}>
      {name}
    </Link>
  );
}

/** The link to a project page (`pods`, `events?type=Warning`) in the page's cluster and project. */
export function projectPath(cluster: string, namespace: string, page: string): string {
  return `/clusters/${encodeURIComponent(cluster)}/projects/${encodeURIComponent(namespace)}/${page}`;
}
