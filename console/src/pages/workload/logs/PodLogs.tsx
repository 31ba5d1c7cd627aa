/**
 * One pod's logs: a virtualized viewer (only the lines in view are in the page, so tens of
 * thousands scroll smoothly) with the choices `kubectl logs` offers — container, follow,
 * the previous instance, timestamps — plus search, wrap, download and clear. While
 * following, the view stays at the newest line unless the user scrolls up to read.
 */
import { useMemo, useState } from "react";
import {
  Alert,
  AlertActionLink,
  Button,
  Label,
  Switch,
  Toolbar,
  ToolbarContent,
  ToolbarGroup,
  ToolbarItem,
} from "@patternfly/react-core";
import { AngleDoubleDownIcon, DownloadIcon, EraserIcon } from "@patternfly/react-icons";
import { LogViewer, LogViewerSearch } from "@patternfly/react-log-viewer";
import { useTranslation } from "react-i18next";
import { describe } from "@/lib/api/errors";
import type { K8sObject } from "@/lib/k8s/types";
import { containersOf, useContainer } from "../containers";
import { ContainerPicker } from "../Picker";
import { MAX_LINES } from "./lines";
import { logPath, useLogStream, type LogStream } from "./logStreaming";

function saveText(fileName: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = fileName;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

/** A switch whose label stays on one line, for a crowded toolbar. */
function Toggle({ id, label, isChecked, isDisabled, onChange }: { id: string; label: string; isChecked: boolean; isDisabled?: boolean; onChange(on: boolean): void }) {
  return (
    <Switch
      id={id}
      data-testid={id}
      label={<span style={{ whiteSpace: "nowrap" }}>{label}</span>}
      isChecked={isChecked}
      isDisabled={isDisabled}
      onChange={(_event, on) => onChange(on)}
    />
  );
}

function StreamState({ log, follow }: { log: LogStream; follow: boolean }) {
  const { t } = useTranslation();
  if (log.status === "connecting") return <Label data-testid="logs-status" data-status="connecting">{t("workload:logs.connecting")}</Label>;
  if (log.status === "open" && follow) {
    return (
      <Label color="green" data-testid="logs-status" data-status="live">
        {t("workload:logs.live")}
      </Label>
    );
  }
  return null;
}

function Notices({ log, follow }: { log: LogStream; follow: boolean }) {
  const { t } = useTranslation();
  const reconnect = <AlertActionLink onClick={log.reconnect}>{t("workload:logs.reconnect")}</AlertActionLink>;
  return (
    <>
      {log.status === "failed" && (
        <Alert variant="danger" isInline title={t("workload:logs.failed")} actionLinks={reconnect} data-testid="logs-error">
          {describe(log.error)}
        </Alert>
      )}
      {log.status === "ended" && follow && (
        <Alert variant="info" isInline isPlain title={t("workload:logs.ended")} actionLinks={reconnect} data-testid="logs-ended" />
      )}
      {log.dropped > 0 && (
        <Alert variant="info" isInline isPlain title={t("workload:logs.dropped", { count: log.dropped, max: MAX_LINES })} />
      )}
      {log.lines.length === 0 && log.status !== "failed" && log.status !== "connecting" && (
        <p data-testid="logs-empty">{follow && log.status === "open" ? t("workload:logs.waiting") : t("workload:logs.empty")}</p>
      )}
    </>
  );
}

export function PodLogs({ cluster, pod }: { cluster: string; pod: K8sObject }) {
  const { t } = useTranslation();
  const choices = useMemo(() => containersOf(pod), [pod]);
  const [container, setPicked] = useContainer(pod, choices);
  const [follow, setFollow] = useState(true);
  const [previous, setPrevious] = useState(false);
  const [timestamps, setTimestamps] = useState(false);
  const [wrap, setWrap] = useState(true);
  const [atEnd, setAtEnd] = useState(true);
  const name = pod.metadata.name;
  const path = container ? logPath(cluster, pod.metadata.namespace, name, { container, follow, previous, timestamps }) : null;
  const log = useLogStream(path);
  const following = follow && !previous;

  const toolbar = (
    <Toolbar>
      <ToolbarContent>
        <ToolbarGroup>
          <ToolbarItem>
            <ContainerPicker choices={choices} value={container} onChange={setPicked} testId="logs-container" />
          </ToolbarItem>
          <ToolbarItem alignSelf="center">
            <Toggle id="logs-follow" label={t("workload:logs.follow")} isChecked={following} isDisabled={previous} onChange={setFollow} />
          </ToolbarItem>
          <ToolbarItem alignSelf="center">
            <Toggle id="logs-previous" label={t("workload:logs.previous")} isChecked={previous} onChange={setPrevious} />
          </ToolbarItem>
          <ToolbarItem alignSelf="center">
            <Toggle id="logs-timestamps" label={t("workload:logs.timestamps")} isChecked={timestamps} onChange={setTimestamps} />
          </ToolbarItem>
          <ToolbarItem alignSelf="center">
            <Toggle id="logs-wrap" label={t("workload:logs.wrap")} isChecked={wrap} onChange={setWrap} />
          </ToolbarItem>
        </ToolbarGroup>
        <ToolbarGroup align={{ default: "alignEnd" }}>
          <ToolbarItem alignSelf="center">
            <StreamState log={log} follow={following} />
          </ToolbarItem>
          <ToolbarItem>
            <LogViewerSearch
              placeholder={t("search")}
              minSearchChars={1}
              aria-label={t("workload:logs.search")}
              data-testid="logs-search"
              // a match is scrolled to: new lines must not carry the view away from it
              onChange={(_event, value) => value && setAtEnd(false)}
            />
          </ToolbarItem>
          <ToolbarItem>
            <Button
              variant="plain"
              icon={<DownloadIcon />}
              aria-label={t("workload:logs.download")}
              title={t("workload:logs.download")}
              isDisabled={log.lines.length === 0}
              onClick={() => saveText(`${name}-${container}.log`, log.lines.join("\n") + "\n")}
              data-testid="logs-download"
            />
          </ToolbarItem>
          <ToolbarItem>
            <Button variant="plain" icon={<EraserIcon />} aria-label={t("workload:logs.clear")} title={t("workload:logs.clear")} onClick={log.clear} data-testid="logs-clear" />
          </ToolbarItem>
        </ToolbarGroup>
      </ToolbarContent>
    </Toolbar>
  );

  return (
    <div data-testid="logs">
      <Notices log={log} follow={following} />
      <LogViewer
        data={log.lines}
        itemCount={log.lines.length}
        hasLineNumbers
        isTextWrapped={wrap}
        theme="dark"
        height="max(360px, calc(100vh - 420px))"
        toolbar={toolbar}
        scrollToRow={atEnd ? log.lines.length : undefined}
        onScroll={({ scrollOffsetToBottom, scrollUpdateWasRequested }) => {
          if (!scrollUpdateWasRequested) setAtEnd(scrollOffsetToBottom <= 1);
        }}
        footer={
          !atEnd && (
            <Button variant="primary" isBlock icon={<AngleDoubleDownIcon />} onClick={() => setAtEnd(true)} data-testid="logs-latest">
              {t("workload:logs.latest")}
            </Button>
          )
        }
      />
    </div>
  );
}
