/**
 * The Terminal tab of a pod: a shell in one of its running containers, for those allowed
 * to `create pods/exec`. When the shell exits or the connection drops, it says why (the
 * exit code, or the server's words) and offers to reconnect.
 */
import { useMemo, useState } from "react";
import { Alert, AlertActionLink, EmptyState, EmptyStateBody, Label, Toolbar, ToolbarContent, ToolbarItem } from "@patternfly/react-core";
import { LockIcon } from "@patternfly/react-icons";
import { useTranslation } from "react-i18next";
import { useQuery } from "@tanstack/react-query";
import { ErrorState, Loading } from "@/components/States";
import { accessKey, can, type AccessCheck } from "@/lib/api/access";
import type { DetailTabProps } from "@/lib/extensions/types";
import type { K8sObject } from "@/lib/k8s/types";
import { containersOf, useContainer, type ContainerChoice } from "../containers";
import { ContainerPicker } from "../Picker";
import type { SessionEnd } from "./execSession";
import { Terminal } from "./Terminal";

type State = { phase: "connecting" } | { phase: "open" } | { phase: "ended"; end: SessionEnd };

/** Containers a shell can run in: the regular and ephemeral ones, and init containers still running (sidecars). */
export function shellContainers(pod: K8sObject): ContainerChoice[] {
  const runningInit = new Set(
    ((pod.status?.initContainerStatuses ?? []) as { name: string; state?: { running?: unknown } }[])
      .filter((status) => status.state?.running)
      .map((status) => status.name),
  );
  return containersOf(pod).filter((choice) => choice.role !== "init" || runningInit.has(choice.name));
}

function Ended({ end, reconnect }: { end: SessionEnd; reconnect(): void }) {
  const { t } = useTranslation();
  const action = (
    <AlertActionLink onClick={reconnect} data-testid="terminal-reconnect">
      {t("workload:terminal.reconnect")}
    </AlertActionLink>
  );
  const status = end.status;
  if (!end.opened) {
    return (
      <Alert variant="danger" isInline title={t("workload:terminal.cannotConnect")} actionLinks={action} data-testid="terminal-ended">
        {end.reason || t("workload:terminal.refused", { code: end.code })}
      </Alert>
    );
  }
  if (status?.success) {
    return <Alert variant="info" isInline title={t("workload:terminal.exited")} actionLinks={action} data-testid="terminal-ended" />;
  }
  if (status?.exitCode !== undefined) {
    return (
      <Alert variant="warning" isInline title={t("workload:terminal.exitedWith", { code: status.exitCode })} actionLinks={action} data-testid="terminal-ended" />
    );
  }
  if (status) {
    return (
      <Alert variant="danger" isInline title={t("workload:terminal.failed")} actionLinks={action} data-testid="terminal-ended">
        {status.message}
      </Alert>
    );
  }
  return (
    <Alert variant="info" isInline title={t("workload:terminal.closed", { code: end.code })} actionLinks={action} data-testid="terminal-ended">
      {end.reason}
    </Alert>
  );
}

export default function TerminalTab({ object, cluster }: DetailTabProps) {
  const { t } = useTranslation();
  const namespace = object.metadata.namespace ?? "";
  const name = object.metadata.name;
  // As `useCan` (the same cached answer), but a failed question shows in words rather than
  // as a spinner that never ends.
  const check: AccessCheck = { cluster, verb: "create", resource: "pods", subresource: "exec", namespace, name };
  const access = useQuery({ queryKey: accessKey(check), queryFn: () => can(check), staleTime: 5 * 60_000 });
  const choices = useMemo(() => shellContainers(object), [object]);
  const [container, setPicked] = useContainer(object, choices);
  const [attempt, setAttempt] = useState(0);
  const [state, setState] = useState<State>({ phase: "connecting" });

  if (access.isPending) return <Loading />;
  if (access.error) return <ErrorState error={access.error} retry={() => void access.refetch()} />;
  if (!access.data) {
    return (
      <EmptyState titleText={t("workload:terminal.forbidden")} headingLevel="h2" icon={LockIcon} data-testid="terminal-forbidden">
        <EmptyStateBody>{t("workload:terminal.forbiddenBody")}</EmptyStateBody>
      </EmptyState>
    );
  }
  if (object.status?.phase !== "Running" || !container) {
    return <p data-testid="terminal-not-running">{t("workload:terminal.notRunning", { phase: object.status?.phase ?? "Unknown" })}</p>;
  }
  const restart = () => {
    setState({ phase: "connecting" });
    setAttempt((count) => count + 1);
  };

  return (
    <>
      <Toolbar>
        <ToolbarContent>
          <ToolbarItem>
            <ContainerPicker
              choices={choices}
              value={container}
              onChange={(value) => {
                setPicked(value);
                restart();
              }}
              testId="terminal-container"
            />
          </ToolbarItem>
          <ToolbarItem alignSelf="center">
            {state.phase === "connecting" && <Label data-testid="terminal-status" data-status="connecting">{t("workload:terminal.connecting")}</Label>}
            {state.phase === "open" && (
              <Label color="green" data-testid="terminal-status" data-status="connected">
                {t("workload:terminal.connected")}
              </Label>
            )}
          </ToolbarItem>
        </ToolbarContent>
      </Toolbar>
      {state.phase === "ended" && <Ended end={state.end} reconnect={restart} />}
      <Terminal
        key={`${container}/${attempt}`}
        target={{ cluster, namespace, pod: name, container }}
        label={t("workload:terminal.label", { container })}
        onOpen={() => setState({ phase: "open" })}
        onEnd={(end) => setState({ phase: "ended", end })}
      />
    </>
  );
}
