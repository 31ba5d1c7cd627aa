/**
 * The console's extension points. A component contributes typed data: pages (with their
 * navigation entries), tabs on detail pages, and commands for the palette. Every React part
 * is loaded lazily (`load`), so a component costs nothing until its page is opened. The
 * built-in pages are contributed exactly the same way (`src/pages/<area>/index.ts`).
 */
import type { ComponentType } from "react";
import type { AccessCheck } from "../api/access";
import type { Kind } from "../k8s/kinds";
import type { K8sObject } from "../k8s/types";
import type { Column } from "@/components/ResourceTable";

/** Where a page lives: its URL prefix and the navigation it appears in. */
export type Area = "platform" | "cluster" | "workspace" | "project";

export const AREA_PREFIX: Record<Area, string> = {
  platform: "/platform",
  cluster: "/clusters/:cluster",
  workspace: "/workspaces/:workspace",
  project: "/clusters/:cluster/projects/:namespace",
};

/** What a page is given by its URL: the route's parameters. */
export type PageProps = Record<string, never>;

export type Lazy<P> = () => Promise<{ default: ComponentType<P> }>;

export interface PageExtension {
  type: "page";
  /** Unique, `<component>.<name>`. */
  id: string;
  /** The Atoll component that provides it; hidden while that component is switched off. */
  component: string;
  area: Area;
  /** Relative to the area's prefix; may hold parameters (`deployments/:name`). */
  path: string;
  load: Lazy<PageProps>;
  /** A navigation entry for the page (none for detail pages). */
  nav?: {
    /** An i18n key. */
    label: string;
    /** An i18n key of the group it sits in (`nav.workloads`); none: top level. */
    section?: string;
    order: number;
    /** Shown only to those allowed (asked in the area's scope). */
    requires?: AccessCheck;
  };
}

export interface DetailTabProps {
  kind: Kind;
  object: K8sObject;
  cluster: string;
}

export interface DetailTabExtension {
  type: "detail-tab";
  id: string;
  component: string;
  /** Resources it applies to (`pods`, `deployments.apps`); `*` for every kind. */
  resources: string[];
  /** An i18n key. */
  title: string;
  order: number;
  /** Shown only to those allowed (a terminal needs `create pods/exec`). */
  requires?(kind: Kind, object: K8sObject, cluster: string): AccessCheck;
  load: Lazy<DetailTabProps>;
}

export interface CommandContext {
  navigate(to: string): void;
  cluster?: string;
  namespace?: string;
  workspace?: string;
}

export interface CommandExtension {
  type: "command";
  id: string;
  component: string;
  /** An i18n key. */
  title: string;
  /** Where it applies; none: everywhere. */
  area?: Area;
  keywords?: string[];
  run(context: CommandContext): void;
}

/**
 * How lists and detail pages show one kind: its columns, and the overview tab of its detail
 * page. Kinds without a view get the generic one (name, namespace, age; metadata and
 * conditions).
 */
export interface ResourceViewExtension {
  type: "resource-view";
  id: string;
  component: string;
  /** `pods`, `deployments.apps`. */
  resource: string;
  /** Columns after the name (translated with `t`). */
  columns?(t: (key: string) => string): Column[];
  overview?: Lazy<DetailTabProps>;
  /** A page that creates one (the workload wizard), instead of a YAML template; relative to
   * the area's prefix, may carry a query (`workloads/new?kind=Deployment`). */
  createPath?: string;
}

export interface ActionProps {
  kind: Kind;
  object: K8sObject;
  cluster: string;
  onClose(): void;
}

/** An action on an object (scale, restart, roll back…), in its detail page's menu and its row. */
export interface ActionExtension {
  type: "action";
  id: string;
  component: string;
  resources: string[];
  /** An i18n key. */
  title: string;
  order: number;
  /** What the user must be allowed, to be offered it. */
  requires(kind: Kind, object: K8sObject, cluster: string): AccessCheck;
  /** Whether it applies to this object now (resume only when paused…). */
  available?(object: K8sObject): boolean;
  /** A dialog; it calls `onClose` when done or cancelled. */
  load: Lazy<ActionProps>;
}

export type Extension =
  | PageExtension
  | DetailTabExtension
  | CommandExtension
  | ResourceViewExtension
  | ActionExtension;
