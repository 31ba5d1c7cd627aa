/**
 * The detail page of any object: a header with its status and actions, then tabs — the
 * kind's overview, events, YAML, and the tabs components contribute (logs and terminal for
 * pods come that way). The object is live: changes show as they happen.
 */
import { useState } from "react";
import {
  Dropdown,
  DropdownItem,
  DropdownList,
  Flex,
  FlexItem,
  MenuToggle,
  PageSection,
  Tab,
  TabTitleText,
  Tabs,
  Title,
} from "@patternfly/react-core";
import { useQueries } from "@tanstack/react-query";
import { useNavigate, useParams, useSearchParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { DeleteDialog } from "@/components/DeleteDialog";
import { ErrorState, Loading } from "@/components/States";
import { LazyPart } from "@/app/LazyPage";
import { accessKey, can, useCan } from "@/lib/api/access";
import { useObject } from "@/lib/api/hooks";
import { useExtensions } from "@/lib/extensions/registry";
import type { ActionExtension, DetailTabExtension } from "@/lib/extensions/types";
import { useKind } from "@/lib/k8s/discovery";
import type { Kind } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";
import { listPath, useView } from "./views";

/** The actions on this object the user is allowed and that apply now (asked in one batch). */
function useAllowedActions(kind: Kind, object: K8sObject, cluster: string): ActionExtension[] {
  const actions = useExtensions("action")
    .filter((action) => action.resources.includes(kind.resource) || action.resources.includes("*"))
    .sort((a, b) => a.order - b.order);
  const answers = useQueries({
    queries: actions.map((action) => {
      const check = action.requires(kind, object, cluster);
      return { queryKey: accessKey(check), queryFn: () => can(check), staleTime: 5 * 60_000 };
    }),
  });
  return actions.filter((action, at) => answers[at]?.data === true && (action.available?.(object) ?? true));
}

/** The Actions menu: only what the user may do; no menu at all for one who may do nothing. */
function Actions({ kind, object, cluster, onAction, onDelete }: { kind: Kind; object: K8sObject; cluster: string; onAction(action: ActionExtension): void; onDelete(): void }) {
  const { t } = useTranslation();
  const [open, setOpen] = useState(false);
  const actions = useAllowedActions(kind, object, cluster);
  const mayDelete = useCan({ cluster, verb: "delete", group: kind.group, resource: kind.plural, namespace: object.metadata.namespace, name: object.metadata.name });
  if (!actions.length && !mayDelete) return null;
  return (
    <Dropdown
      isOpen={open}
      onOpenChange={setOpen}
      popperProps={{ position: "right" }}
      toggle={(ref) => (
        <MenuToggle ref={ref} onClick={() => setOpen(!open)} isExpanded={open} variant="primary" data-testid="actions">
          {t("actions")}
        </MenuToggle>
      )}
    >
      <DropdownList>
        {actions.map((action) => (
          <DropdownItem
            key={action.id}
            data-testid={`action-${action.id}`}
            onClick={() => {
              setOpen(false);
              onAction(action);
            }}
          >
            {t(action.title)}
          </DropdownItem>
        ))}
        {mayDelete && (
          <DropdownItem
            data-testid="action-delete"
            isDanger
            onClick={() => {
              setOpen(false);
              onDelete();
            }}
          >
            {t("delete")}
          </DropdownItem>
        )}
      </DropdownList>
    </Dropdown>
  );
}

/** The ids of the tabs whose `requires` the user is allowed (asked in one batch). */
function useAllowedTabs(tabs: DetailTabExtension[], kind: Kind, object: K8sObject | undefined, cluster: string): Set<string> {
  const guarded = object ? tabs.filter((tab) => tab.requires) : [];
  const answers = useQueries({
    queries: guarded.map((tab) => {
      const check = tab.requires!(kind, object!, cluster);
      return { queryKey: accessKey(check), queryFn: () => can(check), staleTime: 5 * 60_000 };
    }),
  });
  return new Set(guarded.filter((_tab, at) => answers[at]?.data === true).map((tab) => tab.id));
}

export function ResourceDetail({ kind, cluster, namespace, name }: { kind: Kind; cluster: string; namespace?: string; name: string }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const view = useView(kind.resource);
  const tabs = useExtensions("detail-tab")
    .filter((tab) => tab.resources.includes(kind.resource) || tab.resources.includes("*"))
    .sort((a, b) => a.order - b.order);
  const found = useObject(kind, cluster, kind.namespaced ? namespace : undefined, name);
  const allowedTabs = useAllowedTabs(tabs, kind, found.data, cluster);
  const [action, setAction] = useState<ActionExtension | null>(null);
  const [deleting, setDeleting] = useState(false);
  if (found.isPending) return <Loading />;
  if (found.error) return <ErrorState error={found.error} retry={() => void found.refetch()} />;
  const object = found.data;
  const overview: DetailTabExtension | undefined = view?.overview
    ? { type: "detail-tab", id: "overview", component: view.component, resources: [kind.resource], title: "detail.overview", order: 0, load: view.overview }
    : undefined;
  const all = (overview ? [overview, ...tabs.filter((tab) => tab.id !== "resources.overview")] : tabs).filter(
    (tab) => !tab.requires || allowedTabs.has(tab.id),
  );
  const selected = params.get("tab") ?? all[0]?.id ?? "";
  return (
    <>
      <PageSection>
        <Flex justifyContent={{ default: "justifyContentSpaceBetween" }} alignItems={{ default: "alignItemsCenter" }}>
          <FlexItem>
            <div style={{ opacity: 0.7 }}>{kind.kind}</div>
            <Title headingLevel="h1" data-testid="detail-name">
              {object.metadata.name}
            </Title>
          </FlexItem>
          <FlexItem>
            <Actions kind={kind} object={object} cluster={cluster} onAction={setAction} onDelete={() => setDeleting(true)} />
          </FlexItem>
        </Flex>
      </PageSection>
      <PageSection padding={{ default: "noPadding" }}>
        <Tabs
          activeKey={selected}
          onSelect={(_event, key) => setParams({ tab: String(key) }, { replace: true })}
          mountOnEnter
          unmountOnExit
          inset={{ default: "insetMd" }}
        >
          {all.map((tab) => (
            <Tab key={tab.id} eventKey={tab.id} title={<TabTitleText>{t(tab.title)}</TabTitleText>} data-testid={`tab-${tab.id}`}>
              <PageSection>
                <LazyPart load={tab.load} props={{ kind, object, cluster }} />
              </PageSection>
            </Tab>
          ))}
        </Tabs>
      </PageSection>
      {action && <LazyPart load={action.load} props={{ kind, object, cluster, onClose: () => setAction(null) }} />}
      {deleting && (
        <DeleteDialog
          kind={kind}
          cluster={cluster}
          objects={[object]}
          onClose={(deleted) => {
            setDeleting(false);
            if (deleted) navigate(listPath(cluster, kind.resource, object.metadata.namespace));
          }}
        />
      )}
    </>
  );
}

export default function DetailPage() {
  const { cluster = "", namespace, resource = "", name = "" } = useParams();
  const found = useKind(cluster, resource);
  if (found.pending) return <Loading />;
  if (!found.kind) return <ErrorState error={found.error} />;
  return <ResourceDetail kind={found.kind} cluster={cluster} namespace={namespace} name={name} />;
}
