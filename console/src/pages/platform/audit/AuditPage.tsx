/**
 * Platform › Audit: who did what, when, and how it ended, newest first, paged by the server;
 * filtered by the fields the trail keeps and by a time window. Filters apply when the form
 * is submitted, so typing does not send a search per key.
 */
import { useState } from "react";
import {
  Button,
  Form,
  FormGroup,
  Grid,
  GridItem,
  Pagination,
  PageSection,
  TextInput,
  Title,
} from "@patternfly/react-core";
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { ErrorState, Loading } from "@/components/States";
import { StatusLabel } from "@/components/StatusLabel";
import { api } from "@/lib/api/client";
import { AUDIT_API, FILTERS, auditQuery, codeHealth, target, type AuditEvent, type AuditSearch, type Filter } from "./audit";

const EMPTY: AuditSearch = { filters: {}, start: "", end: "", page: 1, limit: 50 };

export default function AuditPage() {
  const { t } = useTranslation();
  const [draft, setDraft] = useState<AuditSearch>(EMPTY);
  const [search, setSearch] = useState<AuditSearch>(EMPTY);
  const events = useQuery({
    queryKey: ["audit", search],
    queryFn: ({ signal }) => api.get<{ items: AuditEvent[]; totalItems: number }>(AUDIT_API, auditQuery(search), signal),
    placeholderData: (previous) => previous,
  });
  const setFilter = (filter: Filter) => (_event: unknown, value: string) => setDraft({ ...draft, filters: { ...draft.filters, [filter]: value } });

  return (
    <>
      <PageSection>
        <Title headingLevel="h1">{t("platform:audit.title")}</Title>
      </PageSection>
      <PageSection>
        <Form
          onSubmit={(event) => {
            event.preventDefault();
            setSearch({ ...draft, page: 1, limit: search.limit });
          }}
        >
          <Grid hasGutter md={3}>
            {FILTERS.map((filter) => (
              <GridItem key={filter}>
                <FormGroup label={t(`platform:audit.${filter}`)} fieldId={`audit-${filter}`}>
                  <TextInput id={`audit-${filter}`} value={draft.filters[filter] ?? ""} onChange={setFilter(filter)} placeholder={t(`platform:audit.${filter}Hint`)} />
                </FormGroup>
              </GridItem>
            ))}
            <GridItem>
              <FormGroup label={t("platform:audit.start")} fieldId="audit-start">
                <TextInput id="audit-start" type="datetime-local" value={draft.start} onChange={(_event, value) => setDraft({ ...draft, start: value })} />
              </FormGroup>
            </GridItem>
            <GridItem>
              <FormGroup label={t("platform:audit.end")} fieldId="audit-end">
                <TextInput id="audit-end" type="datetime-local" value={draft.end} onChange={(_event, value) => setDraft({ ...draft, end: value })} />
              </FormGroup>
            </GridItem>
            <GridItem style={{ alignSelf: "end" }}>
              <Button type="submit" data-testid="audit-search">
                {t("search")}
              </Button>{" "}
              <Button
                variant="link"
                onClick={() => {
                  setDraft(EMPTY);
                  setSearch(EMPTY);
                }}
              >
                {t("platform:audit.clear")}
              </Button>
            </GridItem>
          </Grid>
        </Form>
      </PageSection>
      <PageSection>
        {events.error && !events.data ? (
          <ErrorState error={events.error} retry={() => void events.refetch()} />
        ) : events.isPending ? (
          <Loading />
        ) : (
          <>
            <Pagination
              itemCount={events.data.totalItems}
              perPage={search.limit}
              page={search.page}
              perPageOptions={[20, 50, 100, 500].map((size) => ({ title: String(size), value: size }))}
              onSetPage={(_event, page) => setSearch({ ...search, page })}
              onPerPageSelect={(_event, limit) => setSearch({ ...search, limit, page: 1 })}
              isCompact
            />
            <Table variant="compact" aria-label={t("platform:audit.title")} data-testid="audit-table">
              <Thead>
                <Tr>
                  <Th width={15}>{t("platform:audit.time")}</Th>
                  <Th width={10}>{t("platform:audit.user")}</Th>
                  <Th width={10}>{t("platform:audit.verb")}</Th>
                  <Th>{t("platform:audit.target")}</Th>
                  <Th width={10}>{t("platform:audit.namespace")}</Th>
                  <Th width={10}>{t("platform:audit.cluster")}</Th>
                  <Th width={10}>{t("platform:audit.code")}</Th>
                  <Th>{t("platform:audit.reason")}</Th>
                </Tr>
              </Thead>
              <Tbody>
                {events.data.items.length === 0 && (
                  <Tr>
                    <Td colSpan={8}>{t("platform:audit.none")}</Td>
                  </Tr>
                )}
                {events.data.items.map((event, index) => (
                  <Tr key={`${event.time}-${index}`}>
                    <Td dataLabel={t("platform:audit.time")}>{new Date(event.time).toLocaleString()}</Td>
                    <Td dataLabel={t("platform:audit.user")} title={event.source}>
                      {event.user || t("platform:audit.anonymous")}
                    </Td>
                    <Td dataLabel={t("platform:audit.verb")}>{event.verb}</Td>
                    <Td dataLabel={t("platform:audit.target")} title={event.path}>
                      {target(event)}
                    </Td>
                    <Td dataLabel={t("platform:audit.namespace")}>{event.namespace}</Td>
                    <Td dataLabel={t("platform:audit.cluster")}>{event.cluster}</Td>
                    <Td dataLabel={t("platform:audit.code")}>
                      <StatusLabel status={{ text: String(event.code), health: codeHealth(event.code) }} />
                    </Td>
                    <Td dataLabel={t("platform:audit.reason")}>{event.reason}</Td>
                  </Tr>
                ))}
              </Tbody>
            </Table>
          </>
        )}
      </PageSection>
    </>
  );
}
