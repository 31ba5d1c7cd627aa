/**
 * What a page shows instead of its content: loading, an error in words (the server's own
 * message, and plainly "not allowed" for a 403), or nothing there yet. Never a blank page.
 */
import { Bullseye, Button, EmptyState, EmptyStateBody, EmptyStateFooter, Spinner } from "@patternfly/react-core";
import { ExclamationCircleIcon, LockIcon, SearchIcon } from "@patternfly/react-icons";
import { useTranslation } from "react-i18next";
import { ApiError, describe } from "@/lib/api/errors";

export function Loading({ label }: { label?: string }) {
  const { t } = useTranslation();
  return (
    <Bullseye style={{ minHeight: 120 }}>
      <Spinner size="lg" aria-label={label ?? t("loading")} />
    </Bullseye>
  );
}

export function ErrorState({ error, retry }: { error: unknown; retry?: () => void }) {
  const { t } = useTranslation();
  if (error instanceof ApiError && error.forbidden) {
    return (
      <EmptyState titleText={t("forbidden.title")} headingLevel="h2" icon={LockIcon} data-testid="forbidden">
        <EmptyStateBody>
          {t("forbidden.body")}
          <br />
          <small>{error.message}</small>
        </EmptyStateBody>
      </EmptyState>
    );
  }
  if (error instanceof ApiError && error.notFound) {
    return (
      <EmptyState titleText={t("notFound.title")} headingLevel="h2" icon={SearchIcon}>
        <EmptyStateBody>{error.message}</EmptyStateBody>
      </EmptyState>
    );
  }
  return (
    <EmptyState titleText={t("error.title")} headingLevel="h2" icon={ExclamationCircleIcon} status="danger" data-testid="error-state">
      <EmptyStateBody>{describe(error)}</EmptyStateBody>
      {retry && (
        <EmptyStateFooter>
          <Button variant="primary" onClick={retry}>
            {t("retry")}
          </Button>
        </EmptyStateFooter>
      )}
    </EmptyState>
  );
}
