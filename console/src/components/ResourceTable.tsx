/**
 * A server-paged, sorted, filtered and live list of one kind: a list page is a kind plus its
 * columns. Rows are virtualized (only those in view are in the DOM), so a page of hundreds
 * scrolls smoothly; the total may be any size since the server pages. Selected rows can be
 * deleted together, offered only to those allowed to delete.
 */
import { memo, useCallback, useMemo, useRef, useState, type ReactElement, type ReactNode } from "react";
import { Link, useSearchParams } from "react-router-dom";
import {
  Button,
  Pagination,
  SearchInput,
  Toolbar,
  ToolbarContent,
  ToolbarItem,
} from "@patternfly/react-core";
import { ActionsColumn, Table, Tbody, Td, Th, Thead, Tr, type IAction, type ThProps } from "@patternfly/react-table";
import { useVirtualizer } from "@tanstack/react-virtual";
import { useTranslation } from "react-i18next";
import { useResourcePage, type ListQuery } from "@/lib/api/hooks";
import { useCan } from "@/lib/api/access";
import type { Kind } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";
import { age } from "@/lib/format";
import { ErrorState, Loading } from "./States";
import { DeleteDialog } from "./DeleteDialog";

export interface Column<T extends K8sObject = K8sObject> {
  id: string;
  /** Shown as is (already translated). */
  title: string;
  /** The server's sort key, when the column can be sorted. */
  sort?: "name" | "createTime" | "status";
  render(object: T): ReactNode;
  width?: 10 | 15 | 20 | 25 | 30 | 40 | 50;
}

export interface ResourceTableProps<T extends K8sObject> {
  kind: Kind;
  scope: Pick<ListQuery, "cluster" | "namespace" | "labelSelector" | "fieldSelector">;
  columns: Column<T>[];
  /** Where a row's name links to. */
  link?(object: T): string | undefined;
  /** Row actions (already filtered by what the user may do). */
  actions?(object: T): IAction[];
  /** Buttons beside the filter (Create …). */
  toolbar?: ReactNode;
  /** Offer selection and bulk delete (when allowed). */
  bulkDelete?: boolean;
  pageSizes?: number[];
  ariaLabel?: string;
  emptyText?: string;
}

const ROW_HEIGHT = 45;
const SORTS = ["createTime", "name", "status"] as const;

export function nameColumn<T extends K8sObject>(title: string, link?: (object: T) => string | undefined): Column<T> {
  return {
    id: "name",
    title,
    sort: "name",
    width: 30,
    render: (object) => {
      const to = link?.(object);
      return to ? (
        <Link to={to} data-testid={`link-${object.metadata.name}`}>
          {object.metadata.name}
        </Link>
      ) : (
        object.metadata.name
      );
    },
  };
}

export function ageColumn<T extends K8sObject>(title: string): Column<T> {
  return {
    id: "age",
    title,
    sort: "createTime",
    width: 10,
    render: (object) => <span title={object.metadata.creationTimestamp}>{age(object.metadata.creationTimestamp)}</span>,
  };
}

function RowActions({ items }: { items: IAction[] }) {
  return items.length ? <ActionsColumn items={items} /> : null;
}

interface RowProps<T extends K8sObject> {
  object: T;
  index: number;
  columns: Column<T>[];
  actions?(object: T): IAction[];
  selectable: boolean;
  selected: boolean;
  onSelect(key: string, on: boolean): void;
}

/**
 * One row, rendered again only when its object (a watch event), its selection or the
 * columns change: scrolling moves the window of rows without re-rendering the ones in it.
 */
const Row = memo(function Row<T extends K8sObject>({ object, index, columns, actions, selectable, selected, onSelect }: RowProps<T>) {
  const key = `${object.metadata.namespace ?? ""}/${object.metadata.name}`;
  return (
    <Tr data-row={object.metadata.name} isRowSelected={selected} style={{ height: ROW_HEIGHT }}>
      {selectable && (
        <Td select={{ rowIndex: index, isSelected: selected, onSelect: (_event, isSelecting) => onSelect(key, isSelecting) }} />
      )}
      {columns.map((column) => (
        <Td key={column.id} dataLabel={column.title}>
          {column.render(object)}
        </Td>
      ))}
      {actions && (
        <Td isActionCell>
          <RowActions items={actions(object)} />
        </Td>
      )}
    </Tr>
  );
}) as <T extends K8sObject>(props: RowProps<T>) => ReactElement;

export function ResourceTable<T extends K8sObject>(props: ResourceTableProps<T>) {
  const { kind, scope, columns, link, actions, toolbar, bulkDelete, ariaLabel } = props;
  const { t } = useTranslation();
  const pageSizes = props.pageSizes ?? [20, 50, 100, 500];
  // Page, size, order and filter live in the URL: a list can be linked to, and Back returns
  // to the same page of it.
  const [params, setParams] = useSearchParams();
  const page = Math.max(1, Number(params.get("page")) || 1);
  const limit = Number(params.get("limit")) || pageSizes[0];
  const name = params.get("q") ?? "";
  const sortBy = (SORTS.find((sort) => sort === params.get("sort")) ?? "createTime") as ListQuery["sortBy"];
  const ascending = params.get("asc") === "1";
  const change = (values: Record<string, string | number | undefined>) =>
    setParams(
      (current) => {
        const next = new URLSearchParams(current);
        for (const [key, value] of Object.entries(values)) {
          if (value === undefined || value === "") next.delete(key);
          else next.set(key, String(value));
        }
        return next;
      },
      { replace: true },
    );
  const setPage = (value: number) => change({ page: value > 1 ? value : undefined });
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [deleting, setDeleting] = useState<T[] | null>(null);
  const query: ListQuery = { ...scope, page, limit, name: name || undefined, sortBy, ascending };
  const result = useResourcePage<T>(kind, query);
  const mayDelete = useCan(
    bulkDelete ? { cluster: scope.cluster, verb: "delete", group: kind.group, resource: kind.plural, namespace: scope.namespace } : null,
  );
  const items = useMemo(() => result.data?.items ?? [], [result.data]);
  const keyOf = (object: T) => `${object.metadata.namespace ?? ""}/${object.metadata.name}`;
  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({
    count: items.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10,
  });
  const selectable = Boolean(bulkDelete && mayDelete);
  // The name column links to `link` (one column set per change of either, not per render).
  const linked = useMemo(
    () => (link ? columns.map((column) => (column.id === "name" ? nameColumn<T>(column.title, link) : column)) : columns),
    [columns, link],
  );
  const toggle = useCallback(
    (key: string, on: boolean) =>
      setSelected((now) => {
        const next = new Set(now);
        if (on) next.add(key);
        else next.delete(key);
        return next;
      }),
    [],
  );
  const sortIndex = columns.findIndex((column) => column.sort === sortBy);

  const sortParams = (column: Column<T>, index: number): ThProps["sort"] | undefined =>
    column.sort
      ? {
          sortBy: { index: sortIndex, direction: ascending ? "asc" : "desc" },
          onSort: (_event, _index, direction) =>
            change({ sort: column.sort, asc: direction === "asc" ? 1 : undefined, page: undefined }),
          columnIndex: index,
        }
      : undefined;

  if (result.error && !result.data) return <ErrorState error={result.error} retry={() => void result.refetch()} />;

  const rows = virtual.getVirtualItems();
  const padTop = rows.length ? rows[0].start : 0;
  const padBottom = rows.length ? virtual.getTotalSize() - rows[rows.length - 1].end : 0;
  const span = columns.length + (selectable ? 1 : 0) + (actions ? 1 : 0);

  return (
    <>
      <Toolbar>
        <ToolbarContent>
          <ToolbarItem>
            <SearchInput
              aria-label={t("list.filterByName")}
              placeholder={t("list.filterByName")}
              value={name}
              onChange={(_event, value) => change({ q: value, page: undefined })}
              onClear={() => change({ q: undefined, page: undefined })}
            />
          </ToolbarItem>
          {toolbar && <ToolbarItem>{toolbar}</ToolbarItem>}
          {selectable && selected.size > 0 && (
            <ToolbarItem>
              <Button
                variant="danger"
                onClick={() => setDeleting(items.filter((object) => selected.has(keyOf(object))))}
                data-testid="bulk-delete"
              >
                {t("list.bulkDelete")} ({selected.size})
              </Button>
            </ToolbarItem>
          )}
          <ToolbarItem variant="pagination" align={{ default: "alignEnd" }}>
            <Pagination
              itemCount={result.data?.totalItems ?? 0}
              perPage={limit}
              page={page}
              perPageOptions={pageSizes.map((size) => ({ title: String(size), value: size }))}
              onSetPage={(_event, value) => setPage(value)}
              onPerPageSelect={(_event, value) => change({ limit: value, page: undefined })}
              isCompact
            />
          </ToolbarItem>
        </ToolbarContent>
      </Toolbar>
      <div ref={scroller} style={{ maxHeight: "calc(100vh - 260px)", minHeight: 200, overflow: "auto" }} data-testid="resource-table">
        <Table aria-label={ariaLabel ?? kind.plural} variant="compact" isStickyHeader>
          <Thead>
            <Tr>
              {selectable && (
                <Th
                  aria-label={t("list.selected", { count: selected.size })}
                  select={{
                    onSelect: (_event, all) => setSelected(all ? new Set(items.map(keyOf)) : new Set()),
                    isSelected: items.length > 0 && selected.size === items.length,
                  }}
                />
              )}
              {columns.map((column, index) => (
                <Th key={column.id} sort={sortParams(column, index)} width={column.width}>
                  {column.title}
                </Th>
              ))}
              {actions && <Th screenReaderText={t("actions")} />}
            </Tr>
          </Thead>
          <Tbody>
            {result.isPending && (
              <Tr>
                <Td colSpan={span}>
                  <Loading />
                </Td>
              </Tr>
            )}
            {!result.isPending && items.length === 0 && (
              <Tr>
                <Td colSpan={span}>{props.emptyText ?? t("empty.title")}</Td>
              </Tr>
            )}
            {padTop > 0 && (
              <Tr aria-hidden>
                <Td colSpan={span} style={{ height: padTop, padding: 0 }} />
              </Tr>
            )}
            {rows.map((row) => {
              const object = items[row.index];
              const key = keyOf(object);
              return (
                <Row
                  key={key}
                  object={object}
                  index={row.index}
                  columns={linked}
                  actions={actions}
                  selectable={selectable}
                  selected={selected.has(key)}
                  onSelect={toggle}
                />
              );
            })}
            {padBottom > 0 && (
              <Tr aria-hidden>
                <Td colSpan={span} style={{ height: padBottom, padding: 0 }} />
              </Tr>
            )}
          </Tbody>
        </Table>
      </div>
      {deleting && (
        <DeleteDialog
          kind={kind}
          cluster={scope.cluster}
          objects={deleting}
          onClose={(deleted) => {
            setDeleting(null);
            if (deleted) setSelected(new Set());
          }}
        />
      )}
    </>
  );
}
