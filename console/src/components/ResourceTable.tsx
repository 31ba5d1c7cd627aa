/**
 * A server-paged, sorted, filtered and live list of one kind: a list page is a kind plus its
 * columns. Rows are virtualized (only those in view are in the DOM), so a page of hundreds
 * scrolls smoothly; the total may be any size since the server pages. Selected rows can be
 * deleted together, offered only to those allowed to delete.
 */
import { memo, useCallback, useMemo, useRef, useState, type ReactElement, type ReactNode, type RefObject } from "react";
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
import { css } from "@patternfly/react-styles";
import table from "@patternfly/react-styles/css/components/Table/table";
import check from "@patternfly/react-styles/css/components/Check/check";
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
  /** How wide, against the other columns (15 when unsaid). */
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
const ROW_STYLE = {
  display: "flex",
  alignItems: "center",
  position: "absolute",
  top: 0,
  left: 0,
  width: "100%",
  height: ROW_HEIGHT,
} as const;
// Columns are as wide as their header (see Row): rows coming into view while scrolling never
// move the columns.
const CONTROL_WIDTH = 5; // per cent: the selection and actions columns
const DEFAULT_WIDTH = 15;
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
    width: 15,
    render: (object) => <span title={object.metadata.creationTimestamp}>{age(object.metadata.creationTimestamp)}</span>,
  };
}

function RowActions({ items }: { items: IAction[] }) {
  return items.length ? <ActionsColumn items={items} /> : null;
}

interface RowProps<T extends K8sObject> {
  object: T;
  columns: Column<T>[];
  /** How wide each cell is (as its header). */
  widths: Widths;
  /** Where the row is, from the top of the rows. */
  top: number;
  actions?(object: T): IAction[];
  selectable: boolean;
  selected: boolean;
  onSelect(key: string, on: boolean): void;
  selectLabel: string;
}

/** Widths as CSS lengths: of the selection and actions columns, and of each column. */
interface Widths {
  control: string;
  columns: string[];
}

/** A cell of the given width: rows are flex boxes, their cells as wide as their header's. */
const sized = (width: string) => ({ flex: `0 0 ${width}`, maxWidth: width });
/** A header cell: as wide. The header stays a table row, so titles align as in any table. */
const heading = (width: string) => ({ width });

/**
 * One row, rendered again only when its object (a watch event), its place, its selection or
 * the columns change: scrolling moves the window of rows without re-rendering the ones in it.
 *
 * Rows are placed absolutely (a flex box each, cells as wide as the header's), not stacked in
 * the table's own layout: a row coming into view is laid out alone, and nothing else moves.
 * In a table laid out as a table, every row added or removed while scrolling made the browser
 * lay out the whole table again. Cells are plain elements with PatternFly's table classes
 * (and the grid's roles, which a row laid out as a flex box would otherwise lose): `Tr`/`Td`
 * render twice and carry tooltip state, and rows mount all the time while scrolling.
 */
const Row = memo(function Row<T extends K8sObject>({ object, columns, widths, top, actions, selectable, selected, onSelect, selectLabel }: RowProps<T>) {
  const key = `${object.metadata.namespace ?? ""}/${object.metadata.name}`;
  return (
    <tr
      role="row"
      aria-selected={selectable ? selected : undefined}
      className={css(table.tableTr, selected && table.modifiers.selected)}
      data-row={object.metadata.name}
      style={{ ...ROW_STYLE, transform: `translateY(${top}px)` }}
    >
      {selectable && (
        <td role="gridcell" className={css(table.tableTd, table.tableCheck)} style={sized(widths.control)}>
          <div className={css(check.check, check.modifiers.standalone)}>
            <input
              className={check.checkInput}
              type="checkbox"
              checked={selected}
              aria-label={selectLabel}
              onChange={(event) => onSelect(key, event.currentTarget.checked)}
            />
          </div>
        </td>
      )}
      {columns.map((column, index) => {
        const shown = column.render(object);
        // One line per row, cut short with an ellipsis (the whole text on hover).
        const whole = typeof shown === "string" || typeof shown === "number" ? String(shown) : undefined;
        return (
          <td
            key={column.id}
            role="gridcell"
            className={css(table.tableTd, table.modifiers.truncate)}
            style={sized(widths.columns[index])}
            data-label={column.title}
            title={whole}
          >
            {shown}
          </td>
        );
      })}
      {actions && (
        <td role="gridcell" className={css(table.tableTd, table.tableAction)} style={sized(widths.control)}>
          <RowActions items={actions(object)} />
        </td>
      )}
    </tr>
  );
}) as <T extends K8sObject>(props: RowProps<T>) => ReactElement;

interface VirtualRowsProps<T extends K8sObject> extends Pick<RowProps<T>, "columns" | "widths" | "actions" | "selectable" | "onSelect"> {
  scroller: RefObject<HTMLDivElement | null>;
  items: T[];
  selected: ReadonlySet<string>;
}

/**
 * The rows in view (and a few either side), placed where they fall in the whole list. The
 * scroll position lives here, so scrolling renders this body alone: never the header, whose
 * cells measure themselves each time they render, nor the toolbar.
 */
function VirtualRows<T extends K8sObject>({ scroller, items, selected, ...shared }: VirtualRowsProps<T>) {
  const { t } = useTranslation();
  const virtual = useVirtualizer({
    count: items.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10,
  });
  return (
    <Tbody style={{ display: "block", position: "relative", height: virtual.getTotalSize() }}>
      {virtual.getVirtualItems().map((row) => {
        const object = items[row.index];
        const key = `${object.metadata.namespace ?? ""}/${object.metadata.name}`;
        return (
          <Row
            key={key}
            object={object}
            top={row.start}
            selected={selected.has(key)}
            selectLabel={t("list.select", { name: object.metadata.name })}
            {...shared}
          />
        );
      })}
    </Tbody>
  );
}

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
  const selectable = Boolean(bulkDelete && mayDelete);
  // The name column links to `link` (one column set per change of either, not per render).
  const linked = useMemo(
    () => (link ? columns.map((column) => (column.id === "name" ? nameColumn<T>(column.title, link) : column)) : columns),
    [columns, link],
  );
  // Each column's share of what the controls leave: its width, as a weight among all
  // (DEFAULT_WIDTH where unsaid), so every column is shown however many say a width.
  const controls = (selectable ? 1 : 0) + (actions ? 1 : 0);
  const widths = useMemo((): Widths => {
    const weights = columns.reduce((sum, column) => sum + (column.width ?? DEFAULT_WIDTH), 0);
    const left = 100 - CONTROL_WIDTH * controls;
    return {
      control: `${CONTROL_WIDTH}%`,
      columns: columns.map((column) => `${(((column.width ?? DEFAULT_WIDTH) / weights) * left).toFixed(3)}%`),
    };
  }, [columns, controls]);
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
        <Table aria-label={ariaLabel ?? kind.plural} variant="compact" isStickyHeader style={{ display: "block" }}>
          <Thead style={{ display: "table", width: "100%", tableLayout: "fixed" }}>
            <Tr>
              {selectable && (
                <Th
                  style={heading(widths.control)}
                  aria-label={t("list.selected", { count: selected.size })}
                  select={{
                    onSelect: (_event, all) => setSelected(all ? new Set(items.map(keyOf)) : new Set()),
                    isSelected: items.length > 0 && selected.size === items.length,
                  }}
                />
              )}
              {columns.map((column, index) => (
                <Th key={column.id} sort={sortParams(column, index)} style={heading(widths.columns[index])}>
                  {column.title}
                </Th>
              ))}
              {actions && <Th style={heading(widths.control)} screenReaderText={t("actions")} />}
            </Tr>
          </Thead>
          {result.isPending || items.length === 0 ? (
            <Tbody>
              <Tr style={{ display: "flex" }}>
                <Td colSpan={span} style={{ flex: "1 1 auto" }}>
                  {result.isPending ? <Loading /> : (props.emptyText ?? t("empty.title"))}
                </Td>
              </Tr>
            </Tbody>
          ) : (
            <VirtualRows
              scroller={scroller}
              items={items}
              widths={widths}
              columns={linked}
              actions={actions}
              selectable={selectable}
              selected={selected}
              onSelect={toggle}
            />
          )}
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
