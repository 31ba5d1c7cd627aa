/**
 * Which fields of the form are wrong, and why: `validate(state)` maps a field's path
 * (`containers.0.ports.1.containerPort`, `service.ports.<port id>.port`) to a problem the page
 * words in the user's language. A step may be left only when none of its paths has a problem
 * (`stepOf` says which step a path belongs to), so the server is not the first to object.
 */
import {
  ALIAS_ANNOTATION,
  DESCRIPTION_ANNOTATION,
  PROBE_KINDS,
  TRAITS,
  containerName,
  podLabels,
  pullSecretName,
  servicePorts,
  wantsService,
  type ContainerForm,
  type Pair,
  type ProbeForm,
  type WizardState,
} from "./form";
import {
  isCronSchedule,
  isDns1035Label,
  isDnsLabel,
  isDnsSubdomain,
  isEnvName,
  isIntOrPercent,
  isLabelValue,
  isPort,
  isPortName,
  isQualifiedName,
  isZero,
  parseCpu,
  parseMemory,
  wholeNumber,
} from "./rules";
import { wordsOf } from "./words";

export type ProblemCode =
  | "required"
  | "dnsLabel"
  | "dns1035"
  | "dnsSubdomain"
  | "tooLong"
  | "atLeast"
  | "port"
  | "portOrName"
  | "portName"
  | "nodePort"
  | "duplicate"
  | "cpu"
  | "memory"
  | "limitBelowRequest"
  | "intOrPercent"
  | "bothZero"
  | "cron"
  | "unclosedQuote"
  | "httpPath"
  | "absolutePath"
  | "envName"
  | "labelKey"
  | "labelValue"
  | "reserved"
  | "noContainers"
  | "noLabels"
  | "noMountTarget"
  | "noServicePorts";

export interface Problem {
  code: ProblemCode;
  /** The bound a `tooLong` or `atLeast` problem refers to. */
  limit?: number;
}

export type Errors = Record<string, Problem>;

export type StepId = "basic" | "containers" | "strategy" | "volumes" | "advanced" | "service" | "pullSecret" | "review";

const STEP_OF_FIELD: Record<string, StepId> = {
  name: "basic",
  alias: "basic",
  description: "basic",
  replicas: "basic",
  containers: "containers",
  strategy: "strategy",
  job: "strategy",
  cron: "strategy",
  volumes: "volumes",
  nodeSelector: "advanced",
  labels: "advanced",
  annotations: "advanced",
  service: "service",
  pullSecret: "pullSecret",
};

export function stepOf(path: string): StepId {
  return STEP_OF_FIELD[path.split(".")[0]] ?? "review";
}

/** The problems of one step. */
export function problemsOf(errors: Errors, step: StepId): string[] {
  return Object.keys(errors).filter((path) => stepOf(path) === step);
}

type Report = (path: string, problem: ProblemCode, limit?: number) => void;

function checkWhole(report: Report, path: string, text: string, min: number): void {
  if (!text.trim()) report(path, "required");
  else if (wholeNumber(text, min) === null) report(path, "atLeast", min);
}

function checkName(state: WizardState, report: Report): void {
  const name = state.name.trim();
  const limit = TRAITS[state.kind].maxName;
  // A StatefulSet always has a Service of its name (see objects.ts); Service names are DNS-1035.
  const namesService = state.kind === "StatefulSet" || wantsService(state);
  if (!name) report("name", "required");
  else if (name.length > limit) report("name", "tooLong", limit);
  else if (!isDnsLabel(name)) report("name", "dnsLabel");
  else if (namesService && !isDns1035Label(name)) report("name", "dns1035");
}

function checkProbe(report: Report, path: string, probe: ProbeForm): void {
  if (probe.type === "none") return;
  if (probe.type === "http" && !probe.path.startsWith("/")) report(`${path}.path`, "httpPath");
  if (probe.type === "http" || probe.type === "tcp") {
    if (!probe.port.trim()) report(`${path}.port`, "required");
    else if (!isPort(probe.port) && !isPortName(probe.port.trim())) report(`${path}.port`, "portOrName");
  }
  if (probe.type === "exec") {
    const { words, unclosed } = wordsOf("line", probe.command);
    if (unclosed) report(`${path}.command`, "unclosedQuote");
    else if (!words.length) report(`${path}.command`, "required");
  }
  checkWhole(report, `${path}.initialDelaySeconds`, probe.initialDelaySeconds, 0);
  checkWhole(report, `${path}.periodSeconds`, probe.periodSeconds, 1);
  checkWhole(report, `${path}.timeoutSeconds`, probe.timeoutSeconds, 1);
  checkWhole(report, `${path}.failureThreshold`, probe.failureThreshold, 1);
}

function checkResources(report: Report, path: string, container: ContainerForm): void {
  const { cpuRequest, cpuLimit, memoryRequest, memoryLimit } = container.resources;
  const pairs: [string, string, string, string, (text: string) => number | null, "cpu" | "memory"][] = [
    ["cpuRequest", cpuRequest, "cpuLimit", cpuLimit, parseCpu, "cpu"],
    ["memoryRequest", memoryRequest, "memoryLimit", memoryLimit, parseMemory, "memory"],
  ];
  for (const [requestField, request, limitField, limit, parse, code] of pairs) {
    const requested = request.trim() ? parse(request) : undefined;
    const limited = limit.trim() ? parse(limit) : undefined;
    if (requested === null) report(`${path}.${requestField}`, code);
    if (limited === null) report(`${path}.${limitField}`, code);
    if (typeof requested === "number" && typeof limited === "number" && limited < requested) {
      report(`${path}.${limitField}`, "limitBelowRequest");
    }
  }
}

function checkContainer(state: WizardState, report: Report, index: number, names: string[]): void {
  const container = state.containers[index];
  const path = `containers.${index}`;
  const name = containerName(state, index);
  if (!isDnsLabel(name)) report(`${path}.name`, "dnsLabel");
  else if (names.indexOf(name) !== index) report(`${path}.name`, "duplicate");
  if (!container.image.trim()) report(`${path}.image`, "required");
  for (const field of ["command", "args"] as const) {
    if (wordsOf(container[field].mode, container[field].text).unclosed) report(`${path}.${field}`, "unclosedQuote");
  }
  const portNames: string[] = [];
  container.ports.forEach((port, at) => {
    if (!isPort(port.containerPort)) report(`${path}.ports.${at}.containerPort`, "port");
    const portName = port.name.trim();
    if (!portName) return;
    if (!isPortName(portName)) report(`${path}.ports.${at}.name`, "portName");
    else if (portNames.includes(portName)) report(`${path}.ports.${at}.name`, "duplicate");
    portNames.push(portName);
  });
  checkResources(report, `${path}.resources`, container);
  const envNames: string[] = [];
  container.env.forEach((env, at) => {
    const envPath = `${path}.env.${at}`;
    if (!env.name.trim()) report(`${envPath}.name`, "required");
    else if (!isEnvName(env.name.trim())) report(`${envPath}.name`, "envName");
    else if (envNames.includes(env.name.trim())) report(`${envPath}.name`, "duplicate");
    envNames.push(env.name.trim());
    if (env.source !== "value") {
      if (!env.ref) report(`${envPath}.ref`, "required");
      if (!env.key) report(`${envPath}.key`, "required");
    }
  });
  if (!container.init) for (const kind of PROBE_KINDS) checkProbe(report, `${path}.probes.${kind}`, container.probes[kind]);
}

function checkStrategy(state: WizardState, report: Report): void {
  const traits = TRAITS[state.kind];
  if (traits.batch) {
    checkWhole(report, "job.completions", state.job.completions, 1);
    checkWhole(report, "job.parallelism", state.job.parallelism, 1);
    checkWhole(report, "job.backoffLimit", state.job.backoffLimit, 0);
    if (state.kind === "CronJob" && !isCronSchedule(state.cron.schedule)) report("cron.schedule", "cron");
    return;
  }
  const { type, maxSurge, maxUnavailable, partition } = state.strategy;
  if (type !== "RollingUpdate") return;
  if (state.kind === "StatefulSet") {
    checkWhole(report, "strategy.partition", partition, 0);
    return;
  }
  if (!isIntOrPercent(maxUnavailable)) report("strategy.maxUnavailable", "intOrPercent");
  if (state.kind !== "Deployment") return;
  if (!isIntOrPercent(maxSurge)) report("strategy.maxSurge", "intOrPercent");
  else if (isZero(maxSurge) && isZero(maxUnavailable)) report("strategy.maxUnavailable", "bothZero");
}

function checkVolumes(state: WizardState, report: Report): void {
  const ids = new Set(state.containers.map((container) => container.id));
  const names: string[] = [];
  const mounted = new Map<string, string[]>();
  state.volumes.forEach((volume, at) => {
    const path = `volumes.${at}`;
    if (!isDnsLabel(volume.name.trim())) report(`${path}.name`, "dnsLabel");
    else if (names.includes(volume.name.trim())) report(`${path}.name`, "duplicate");
    names.push(volume.name.trim());
    if (volume.type !== "emptyDir" && !volume.source) report(`${path}.source`, "required");
    const targets = volume.containers.filter((id) => ids.has(id));
    if (!targets.length) report(`${path}.containers`, "noMountTarget");
    const mountPath = volume.mountPath.trim();
    if (!mountPath.startsWith("/")) {
      report(`${path}.mountPath`, mountPath ? "absolutePath" : "required");
      return;
    }
    for (const id of targets) {
      const paths = mounted.get(id) ?? [];
      if (paths.includes(mountPath)) report(`${path}.mountPath`, "duplicate");
      mounted.set(id, [...paths, mountPath]);
    }
  });
}

function checkPairs(report: Report, path: string, pairs: Pair[], values: "label" | "any", reserved: string[] = []): void {
  const keys: string[] = [];
  pairs.forEach((pair, at) => {
    const key = pair.key.trim();
    if (!key) report(`${path}.${at}.key`, "required");
    else if (!isQualifiedName(key)) report(`${path}.${at}.key`, "labelKey");
    else if (keys.includes(key)) report(`${path}.${at}.key`, "duplicate");
    else if (reserved.includes(key)) report(`${path}.${at}.key`, "reserved");
    keys.push(key);
    if (values === "label" && !isLabelValue(pair.value.trim())) report(`${path}.${at}.value`, "labelValue");
  });
}

function checkService(state: WizardState, report: Report): void {
  if (!wantsService(state)) return;
  const exposed = servicePorts(state).filter((item) => item.entry.expose);
  if (!exposed.length) report("service.type", "noServicePorts");
  const used: string[] = [];
  for (const { id, port, entry } of exposed) {
    const path = `service.ports.${id}`;
    const key = `${entry.port.trim()}/${port.protocol}`;
    if (!isPort(entry.port)) report(`${path}.port`, "port");
    else if (used.includes(key)) report(`${path}.port`, "duplicate");
    used.push(key);
    const nodePort = entry.nodePort.trim();
    if (state.service.type === "NodePort" && nodePort) {
      const value = wholeNumber(nodePort);
      if (value === null || value < 30000 || value > 32767) report(`${path}.nodePort`, "nodePort");
    }
  }
}

function checkPullSecret(state: WizardState, report: Report): void {
  const form = state.pullSecret;
  if (form.mode === "existing" && !form.existing) report("pullSecret.existing", "required");
  if (form.mode !== "new") return;
  if (form.name.trim() && !isDnsSubdomain(form.name.trim())) report("pullSecret.name", "dnsSubdomain");
  else if (!isDnsSubdomain(pullSecretName(state))) report("pullSecret.name", "required");
  for (const field of ["server", "username", "password"] as const) {
    if (!form[field].trim()) report(`pullSecret.${field}`, "required");
  }
}

export function validate(state: WizardState): Errors {
  const errors: Errors = {};
  const report: Report = (path, code, limit) => {
    errors[path] ??= limit === undefined ? { code } : { code, limit };
  };
  checkName(state, report);
  if (TRAITS[state.kind].replicas) checkWhole(report, "replicas", state.replicas, 0);
  if (!state.containers.some((container) => !container.init)) report("containers", "noContainers");
  const names = state.containers.map((_, at) => containerName(state, at));
  state.containers.forEach((_, at) => checkContainer(state, report, at, names));
  checkStrategy(state, report);
  checkVolumes(state, report);
  checkPairs(report, "nodeSelector", state.nodeSelector, "label");
  const labels = podLabels(state);
  if (!labels.length) report("labels", "noLabels");
  checkPairs(report, "labels", labels, "label");
  const reserved = [state.alias.trim() && ALIAS_ANNOTATION, state.description.trim() && DESCRIPTION_ANNOTATION].filter(Boolean) as string[];
  checkPairs(report, "annotations", state.annotations, "any", reserved);
  checkService(state, report);
  checkPullSecret(state, report);
  return errors;
}
