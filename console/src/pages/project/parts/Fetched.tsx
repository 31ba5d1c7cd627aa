/**
 * What a related list shows while it loads or when it cannot be read: a spinner, then the
 * server's words inline (a refusal to list pods does not hide the rest of the overview).
 */
import type { ReactNode } from "react";
import { Alert } from "@patternfly/react-core";
import { useTranslation } from "react-i18next";
import { Loading } from "@/components/States";
import { describe } from "@/lib/api/errors";

interface Result<T> {
  data?: T;
  error: unknown;
  isPending: boolean;
}

export function Fetched<T>({ result, children }: { result: Result<T>; children: (data: T) => ReactNode }) {
  const { t } = useTranslation();
  if (result.data !== undefined) return <>{children(result.data)}</>;
  if (result.error) {
    return (
      <Alert variant="danger" isInline isPlain title={t("project:related.error")}>
        {describe(result.error)}
      </Alert>
    );
  }
  return <Loading />;
}

/** Said under a related list when the scope held more than one read brings (500). */
export function Truncated({ shown, total }: { shown: number; total: number }) {
  const { t } = useTranslation();
  if (total <= shown) return null;
  return (
    <Alert variant="info" isInline isPlain title={t("project:related.truncated", { shown, total })} />
  );
}
