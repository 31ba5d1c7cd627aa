/**
 * Ctrl+K: jump to any page of the current context, any resource by name (searched in the
 * cached list API of the current cluster or project), or run a command. Arrow keys move,
 * Enter goes.
 */
import { useMemo, useState } from "react";
import { Menu, MenuContent, MenuItem, MenuList, Modal, ModalBody, SearchInput } from "@patternfly/react-core";
import { useQuery } from "@tanstack/react-query";
import { useNavigate, useParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { fetchPage } from "@/lib/api/hooks";
import { useExtensions } from "@/lib/extensions/registry";
import type { Area } from "@/lib/extensions/types";
import { Deployment, Pod, Service, StatefulSet, Namespace, type Kind } from "@/lib/k8s/kinds";
import { areaPath } from "./Navigation";

interface Entry {
  id: string;
  title: string;
  group: string;
  go(): void;
}

const SEARCHED: Kind[] = [Deployment, StatefulSet, Pod, Service];

export function CommandPalette({ onClose }: { onClose(): void }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const params = useParams();
  const [text, setText] = useState("");
  const [at, setAt] = useState(0);
  const pages = useExtensions("page");
  const commands = useExtensions("command");
  const areas: Area[] = ["platform"];
  if (params.cluster) areas.push("cluster");
  if (params.namespace) areas.push("project");
  if (params.workspace) areas.push("workspace");
  const cluster = params.cluster ?? "host";
  const namespace = params.namespace;

  const found = useQuery({
    queryKey: ["palette", cluster, namespace ?? "", text],
    enabled: text.length >= 2,
    queryFn: async () => {
      const kinds = namespace ? SEARCHED : [...SEARCHED, Namespace];
      const pages = await Promise.all(
        kinds.map((kind) =>
          fetchPage(kind, { cluster, namespace, name: text, limit: 5, sortBy: "name", ascending: true })
            .then((page) => page.items.map((object) => ({ kind, object })))
            .catch(() => []),
        ),
      );
      return pages.flat();
    },
  });

  const entries = useMemo(() => {
    const go = (to: string) => () => {
      navigate(to);
      onClose();
    };
    const list: Entry[] = [];
    for (const page of pages) {
      if (!page.nav || !areas.includes(page.area)) continue;
      list.push({ id: page.id, title: t(page.nav.label), group: t(`nav.${page.area}`), go: go(areaPath(page.area, params, page.path)) });
    }
    for (const command of commands) {
      if (command.area && !areas.includes(command.area)) continue;
      list.push({
        id: command.id,
        title: t(command.title),
        group: t("actions"),
        go: () => {
          command.run({ navigate, cluster: params.cluster, namespace: params.namespace, workspace: params.workspace });
          onClose();
        },
      });
    }
    for (const { kind, object } of found.data ?? []) {
      const ns = object.metadata.namespace;
      const to =
        kind === Namespace
          ? `/clusters/${cluster}/projects/${object.metadata.name}/overview`
          : `/clusters/${cluster}/projects/${ns}/${kind.resource}/${object.metadata.name}`;
      list.push({ id: `${kind.resource}/${ns}/${object.metadata.name}`, title: `${object.metadata.name}${ns && !namespace ? ` (${ns})` : ""}`, group: kind.kind, go: go(to) });
    }
    const needle = text.toLowerCase();
    return list.filter((entry) => entry.group === "Namespace" || SEARCHED.some((kind) => kind.kind === entry.group) || entry.title.toLowerCase().includes(needle));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [pages, commands, found.data, text, params.cluster, params.namespace, params.workspace]);

  const choose = (index: number) => entries[index]?.go();

  return (
    <Modal isOpen variant="medium" onClose={onClose} aria-label={t("palette.title")} position="top">
      <ModalBody>
        <SearchInput
          autoFocus
          aria-label={t("palette.placeholder")}
          placeholder={t("palette.placeholder")}
          value={text}
          data-testid="palette-input"
          onChange={(_event, value) => {
            setText(value);
            setAt(0);
          }}
          onKeyDown={(event) => {
            if (event.key === "ArrowDown") setAt(Math.min(entries.length - 1, at + 1));
            else if (event.key === "ArrowUp") setAt(Math.max(0, at - 1));
            else if (event.key === "Enter") choose(at);
            else return;
            event.preventDefault();
          }}
        />
        <Menu isPlain style={{ marginTop: 8, maxHeight: 400, overflow: "auto" }}>
          <MenuContent>
            <MenuList>
              {entries.length === 0 && <MenuItem isDisabled>{t("palette.noResults")}</MenuItem>}
              {entries.map((entry, index) => (
                <MenuItem key={entry.id} isFocused={index === at} description={entry.group} onClick={() => choose(index)}>
                  {entry.title}
                </MenuItem>
              ))}
            </MenuList>
          </MenuContent>
        </Menu>
      </ModalBody>
    </Modal>
  );
}
