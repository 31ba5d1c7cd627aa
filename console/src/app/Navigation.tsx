/**
 * The side navigation of an area: the nav entries of its page extensions, by section. An
 * entry that `requires` something is shown only to those allowed (asked in one batch, in the
 * area's scope); a section none of whose entries is shown is left out.
 */
import { Nav, NavExpandable, NavItem, NavList } from "@patternfly/react-core";
import { useQueries } from "@tanstack/react-query";
import { NavLink, useMatch, useParams, type Params } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { accessKey, can, type AccessCheck } from "@/lib/api/access";
import { useExtensions } from "@/lib/extensions/registry";
import { AREA_PREFIX, type Area, type PageExtension } from "@/lib/extensions/types";

export function areaPath(area: Area, params: Record<string, string | undefined>, path = ""): string {
  const prefix = AREA_PREFIX[area].replace(/:(\w+)/g, (_match, name: string) => encodeURIComponent(params[name] ?? ""));
  return path ? `${prefix}/${path}` : prefix;
}

/** A nav entry's access check, in the scope of the page's URL. */
function scoped(requires: AccessCheck, area: Area, params: Readonly<Params>): AccessCheck {
  return {
    ...requires,
    cluster: requires.cluster ?? params.cluster,
    workspace: requires.workspace ?? params.workspace,
    namespace: requires.namespace ?? (area === "project" ? params.namespace : undefined),
  };
}

function useShown(pages: PageExtension[], area: Area): PageExtension[] {
  const params = useParams();
  const guarded = pages.filter((page) => page.nav?.requires);
  const answers = useQueries({
    queries: guarded.map((page) => {
      const check = scoped(page.nav!.requires!, area, params);
      return { queryKey: accessKey(check), queryFn: () => can(check), staleTime: 5 * 60_000 };
    }),
  });
  const allowed = new Set(guarded.filter((_page, at) => answers[at]?.data === true).map((page) => page.id));
  return pages.filter((page) => !page.nav?.requires || allowed.has(page.id));
}

function Entry({ page, area }: { page: PageExtension; area: Area }) {
  const { t } = useTranslation();
  const params = useParams();
  const to = areaPath(area, params, page.path);
  // The page, or any page under it (a Deployment's detail under Deployments), is current.
  const current = useMatch({ path: decodeURIComponent(to), end: false }) !== null;
  return (
    <NavItem itemId={page.id} isActive={current}>
      <NavLink to={to} data-testid={`nav-${page.id}`}>
        {t(page.nav?.label ?? page.id)}
      </NavLink>
    </NavItem>
  );
}

export function Navigation({ area }: { area: Area }) {
  const { t } = useTranslation();
  const pages = useShown(
    useExtensions("page")
      .filter((page) => page.area === area && page.nav)
      .sort((a, b) => (a.nav?.order ?? 0) - (b.nav?.order ?? 0)),
    area,
  );
  const sections: (PageExtension | { section: string; pages: PageExtension[] })[] = [];
  for (const page of pages) {
    const section = page.nav?.section;
    if (!section) {
      sections.push(page);
      continue;
    }
    const found = sections.find((item) => "section" in item && item.section === section) as
      | { section: string; pages: PageExtension[] }
      | undefined;
    if (found) found.pages.push(page);
    else sections.push({ section, pages: [page] });
  }
  return (
    <Nav aria-label={t(`nav.${area}`)}>
      <NavList>
        {sections.map((item) =>
          "section" in item ? (
            <NavExpandable key={item.section} title={t(item.section)} isExpanded>
              {item.pages.map((page) => (
                <Entry key={page.id} page={page} area={area} />
              ))}
            </NavExpandable>
          ) : (
            <Entry key={item.id} page={item} area={area} />
          ),
        )}
      </NavList>
    </Nav>
  );
}
