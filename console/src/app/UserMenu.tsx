/** The user's menu: change password, download a kubeconfig, language, theme, log out. */
import { useState } from "react";
import { Divider, Dropdown, DropdownGroup, DropdownItem, DropdownList, MenuToggle } from "@patternfly/react-core";
import { UserIcon } from "@patternfly/react-icons";
import { useQueryClient } from "@tanstack/react-query";
import { useNavigate } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { request } from "@/lib/api/client";
import { logOut } from "@/lib/api/session";
import { useMe } from "@/lib/api/me";
import { LANGUAGES, setLanguage, type Language } from "@/lib/i18n";
import { applyTheme, savedTheme, type Theme } from "./theme";
import { PasswordDialog } from "./PasswordDialog";

async function downloadKubeconfig(user: string): Promise<void> {
  const text = await request<string>(`/kapis/resources.atoll.io/v1alpha1/users/${encodeURIComponent(user)}/kubeconfig`, { text: true });
  const url = URL.createObjectURL(new Blob([text], { type: "application/yaml" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = "kubeconfig";
  link.click();
  URL.revokeObjectURL(url);
}

export function UserMenu() {
  const { t, i18n } = useTranslation();
  const me = useMe();
  const navigate = useNavigate();
  const client = useQueryClient();
  const [open, setOpen] = useState(false);
  const [changing, setChanging] = useState(false);
  const [theme, setTheme] = useState<Theme>(savedTheme());
  const name = me.data?.name ?? "";
  return (
    <>
      <Dropdown
        isOpen={open}
        onOpenChange={setOpen}
        popperProps={{ position: "right" }}
        toggle={(ref) => (
          <MenuToggle ref={ref} onClick={() => setOpen(!open)} isExpanded={open} icon={<UserIcon />} variant="plainText" data-testid="user-menu">
            {name}
          </MenuToggle>
        )}
      >
        <DropdownList>
          <DropdownItem onClick={() => setChanging(true)} data-testid="change-password">
            {t("user.changePassword")}
          </DropdownItem>
          <DropdownItem onClick={() => void downloadKubeconfig(name)} isDisabled={!name}>
            {t("user.kubeconfig")}
          </DropdownItem>
        </DropdownList>
        <Divider />
        <DropdownGroup label={t("user.language")}>
          <DropdownList>
            {LANGUAGES.map((language) => (
              <DropdownItem
                key={language.code}
                onClick={() => setLanguage(language.code as Language)}
                isSelected={i18n.language === language.code}
                data-testid={`language-${language.code}`}
              >
                {language.name}
              </DropdownItem>
            ))}
          </DropdownList>
        </DropdownGroup>
        <Divider />
        <DropdownGroup label={t("user.theme")}>
          <DropdownList>
            {(["light", "dark"] as const).map((choice) => (
              <DropdownItem
                key={choice}
                isSelected={theme === choice}
                onClick={() => {
                  applyTheme(choice);
                  setTheme(choice);
                }}
                data-testid={`theme-${choice}`}
              >
                {t(`user.${choice}`)}
              </DropdownItem>
            ))}
          </DropdownList>
        </DropdownGroup>
        <Divider />
        <DropdownList>
          <DropdownItem
            data-testid="logout"
            onClick={() =>
              void logOut().then(() => {
                client.clear();
                navigate("/login");
              })
            }
          >
            {t("user.logout")}
          </DropdownItem>
        </DropdownList>
      </Dropdown>
      {changing && name && <PasswordDialog user={name} onClose={() => setChanging(false)} />}
    </>
  );
}
