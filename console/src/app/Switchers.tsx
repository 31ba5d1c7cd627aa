/**
 * The context switchers of the masthead: which cluster (on every cluster-scoped page), which
 * project within it, which workspace. Switching keeps the page kind when it exists there.
 */
import { useState } from "react";
import { MenuToggle, Select, SelectList, SelectOption } from "@patternfly/react-core";
import { useQuery } from "@tanstack/react-query";
import { useLocation, useNavigate, useParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { api } from "@/lib/api/client";
import { fetchPage } from "@/lib/api/hooks";
import { Namespace } from "@/lib/k8s/kinds";
import type { K8sObject } from "@/lib/k8s/types";

interface Listing {
  items: K8sObject[];
}

export function useClusters() {
  return useQuery({
    queryKey: ["clusters"],
    queryFn: () => api.get<Listing>("/kapis/cluster.atoll.io/v1alpha1/clusters"),
    staleTime: 30_000,
  });
}

export function useWorkspaces() {
  return useQuery({
    queryKey: ["workspaces"],
    queryFn: () => api.get<Listing>("/kapis/tenant.atoll.io/v1alpha1/workspaces"),
    staleTime: 30_000,
  });
}

function Switcher({
  label,
  value,
  options,
  onSelect,
  testId,
}: {
  label: string;
  value: string;
  options: string[];
  onSelect(value: string): void;
  testId: string;
}) {
  const [open, setOpen] = useState(false);
  return (
    <Select
      isOpen={open}
      onOpenChange={setOpen}
      selected={value}
      onSelect={(_event, chosen) => {
        setOpen(false);
        if (typeof chosen === "string" && chosen !== value) onSelect(chosen);
      }}
      toggle={(ref) => (
        <MenuToggle ref={ref} onClick={() => setOpen(!open)} isExpanded={open} data-testid={testId}>
          <span style={{ opacity: 0.7, marginRight: 6 }}>{label}:</span>
          {value}
        </MenuToggle>
      )}
    >
      <SelectList style={{ maxHeight: 400, overflow: "auto" }}>
        {options.map((option) => (
          <SelectOption key={option} value={option}>
            {option}
          </SelectOption>
        ))}
      </SelectList>
    </Select>
  );
}

export function ClusterSwitcher() {
  const { t } = useTranslation();
  const { cluster = "" } = useParams();
  const location = useLocation();
  const navigate = useNavigate();
  const clusters = useClusters();
  const names = clusters.data?.items.map((item) => item.metadata.name) ?? [cluster];
  return (
    <Switcher
      label={t("switcher.cluster")}
      value={cluster}
      options={names.includes(cluster) ? names : [cluster, ...names]}
      testId="cluster-switcher"
      onSelect={(chosen) => {
        // Same page in the other cluster, leaving a project (it is per cluster).
        const rest = location.pathname.split("/").slice(3);
        const page = rest[0] === "projects" ? "projects" : rest.join("/") || "overview";
        navigate(`/clusters/${encodeURIComponent(chosen)}/${page}`);
      }}
    />
  );
}

export function ProjectSwitcher() {
  const { t } = useTranslation();
  const { cluster = "", namespace = "" } = useParams();
  const location = useLocation();
  const navigate = useNavigate();
  const projects = useQuery({
    queryKey: ["project-names", cluster],
    queryFn: () => fetchPage(Namespace, { cluster, limit: 500, sortBy: "name", ascending: true }),
    staleTime: 30_000,
  });
  const names = projects.data?.items.map((item) => item.metadata.name) ?? [namespace];
  return (
    <Switcher
      label={t("switcher.project")}
      value={namespace}
      options={names.includes(namespace) ? names : [namespace, ...names]}
      testId="project-switcher"
      onSelect={(chosen) => {
        const rest = location.pathname.split("/").slice(5);
        navigate(`/clusters/${encodeURIComponent(cluster)}/projects/${encodeURIComponent(chosen)}/${rest[0] ?? "overview"}`);
      }}
    />
  );
}

export function WorkspaceSwitcher() {
  const { t } = useTranslation();
  const { workspace = "" } = useParams();
  const location = useLocation();
  const navigate = useNavigate();
  const workspaces = useWorkspaces();
  const names = workspaces.data?.items.map((item) => item.metadata.name) ?? [workspace];
  return (
    <Switcher
      label={t("switcher.workspace")}
      value={workspace}
      options={names.includes(workspace) ? names : [workspace, ...names]}
      testId="workspace-switcher"
      onSelect={(chosen) => {
        const rest = location.pathname.split("/").slice(3);
        navigate(`/workspaces/${encodeURIComponent(chosen)}/${rest[0] ?? "projects"}`);
      }}
    />
  );
}
