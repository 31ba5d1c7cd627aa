/**
 * The frame around every signed-in page: masthead (home, context switchers, the palette,
 * the user's menu), the area's navigation, and the page.
 */
import { useMemo, useState } from "react";
import {
  Brand,
  Button,
  Masthead,
  MastheadBrand,
  MastheadContent,
  MastheadMain,
  MastheadToggle,
  Page,
  PageSidebar,
  PageSidebarBody,
  PageToggleButton,
  SkipToContent,
  Toolbar,
  ToolbarContent,
  ToolbarGroup,
  ToolbarItem,
} from "@patternfly/react-core";
import { BarsIcon, SearchIcon } from "@patternfly/react-icons";
import { Link, Outlet } from "react-router-dom";
import { useTranslation } from "react-i18next";
import type { Area } from "@/lib/extensions/types";
import { Navigation } from "./Navigation";
import { ClusterSwitcher, ProjectSwitcher, WorkspaceSwitcher } from "./Switchers";
import { UserMenu } from "./UserMenu";
import { CommandPalette } from "./CommandPalette";
import { ShortcutsHelp, useShortcuts } from "./Shortcuts";
import { Boundary } from "./LazyPage";

const LOGO =
  "data:image/svg+xml;utf8," +
  encodeURIComponent(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 32"><circle cx="16" cy="16" r="13" fill="none" stroke="%230066cc" stroke-width="5"/><text x="36" y="23" font-family="sans-serif" font-size="20" font-weight="700" fill="%230066cc">Atoll</text></svg>'.replace(
      /%23/g,
      "#",
    ),
  );

export function Shell({ area }: { area: Area | null }) {
  const { t } = useTranslation();
  const [palette, setPalette] = useState(false);
  const [help, setHelp] = useState(false);
  const shortcuts = useMemo(() => ({ palette: () => setPalette((open) => !open), help: () => setHelp(true) }), []);
  useShortcuts(shortcuts);

  const masthead = (
    <Masthead>
      <MastheadMain>
        {area && (
          <MastheadToggle>
            <PageToggleButton variant="plain" aria-label={t("nav.toggle", "Navigation")}>
              <BarsIcon />
            </PageToggleButton>
          </MastheadToggle>
        )}
        <MastheadBrand>
          <Link to="/" aria-label={t("nav.home")}>
            <Brand src={LOGO} alt="Atoll" heights={{ default: "32px" }} />
          </Link>
        </MastheadBrand>
      </MastheadMain>
      <MastheadContent>
        <Toolbar isFullHeight isStatic>
          <ToolbarContent>
            <ToolbarGroup>
              {(area === "cluster" || area === "project") && (
                <ToolbarItem>
                  <ClusterSwitcher />
                </ToolbarItem>
              )}
              {area === "project" && (
                <ToolbarItem>
                  <ProjectSwitcher />
                </ToolbarItem>
              )}
              {area === "workspace" && (
                <ToolbarItem>
                  <WorkspaceSwitcher />
                </ToolbarItem>
              )}
            </ToolbarGroup>
            <ToolbarGroup align={{ default: "alignEnd" }}>
              <ToolbarItem>
                <Button variant="plain" icon={<SearchIcon />} onClick={() => setPalette(true)} data-testid="open-palette">
                  <span className="pf-v6-screen-reader">{t("palette.title")} </span>
                  <kbd style={{ fontSize: 12, opacity: 0.7 }}>{t("palette.hint")}</kbd>
                </Button>
              </ToolbarItem>
              <ToolbarItem>
                <Link to="/platform/clusters">{t("nav.platform")}</Link>
              </ToolbarItem>
              <ToolbarItem>
                <UserMenu />
              </ToolbarItem>
            </ToolbarGroup>
          </ToolbarContent>
        </Toolbar>
      </MastheadContent>
    </Masthead>
  );

  const sidebar = area ? (
    <PageSidebar>
      <PageSidebarBody>
        <Navigation area={area} />
      </PageSidebarBody>
    </PageSidebar>
  ) : undefined;

  return (
    <Page
      masthead={masthead}
      sidebar={sidebar}
      isManagedSidebar
      skipToContent={<SkipToContent href="#main">{t("skipToContent", "Skip to content")}</SkipToContent>}
      mainContainerId="main"
    >
      <Boundary>
        <Outlet />
      </Boundary>
      {palette && <CommandPalette onClose={() => setPalette(false)} />}
      {help && <ShortcutsHelp onClose={() => setHelp(false)} />}
    </Page>
  );
}
