/**
 * Keyboard shortcuts of every page: Ctrl+K (or ⌘K) opens the palette, `/` puts the cursor
 * in the page's filter, `?` lists the shortcuts. Keys typed into a field are left alone.
 */
import { useEffect } from "react";
import { Modal, ModalBody, ModalHeader } from "@patternfly/react-core";
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";
import { useTranslation } from "react-i18next";

function typing(target: EventTarget | null): boolean {
  const element = target as HTMLElement | null;
  if (!element) return false;
  return element.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(element.tagName);
}

export function useShortcuts(actions: { palette(): void; help(): void }): void {
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "k") {
        event.preventDefault();
        actions.palette();
        return;
      }
      if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
      if (event.key === "/") {
        const filter = document.querySelector<HTMLInputElement>("main input[type=search], main .pf-v6-c-search-input input");
        if (filter) {
          event.preventDefault();
          filter.focus();
        }
      } else if (event.key === "?") {
        event.preventDefault();
        actions.help();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [actions]);
}

export function ShortcutsHelp({ onClose }: { onClose(): void }) {
  const { t } = useTranslation();
  const rows: [string, string][] = [
    ["Ctrl+K", t("shortcuts.palette")],
    ["/", t("shortcuts.filter")],
    ["?", t("shortcuts.help")],
    ["Esc", t("shortcuts.close")],
  ];
  return (
    <Modal isOpen variant="small" onClose={onClose} aria-labelledby="shortcuts-title">
      <ModalHeader title={t("shortcuts.title")} labelId="shortcuts-title" />
      <ModalBody>
        <Table variant="compact" aria-label={t("shortcuts.title")} data-testid="shortcuts">
          <Thead>
            <Tr>
              <Th>{t("shortcuts.key")}</Th>
              <Th>{t("shortcuts.does")}</Th>
            </Tr>
          </Thead>
          <Tbody>
            {rows.map(([key, does]) => (
              <Tr key={key}>
                <Td>
                  <kbd>{key}</kbd>
                </Td>
                <Td>{does}</Td>
              </Tr>
            ))}
          </Tbody>
        </Table>
      </ModalBody>
    </Modal>
  );
}
