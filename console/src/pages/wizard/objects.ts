/**
 * The Kubernetes objects a valid form stands for, in the order they must be created: the
 * registry Secret (the workload's pods name it), the workload, then its Service. Only what
 * the user set is written; everything else is left to the API server's defaults, so the YAML
 * the review step shows is what a person would have written by hand.
 */
import type { K8sObject } from "@/lib/k8s/types";
import {
  ALIAS_ANNOTATION,
  DESCRIPTION_ANNOTATION,
  PROBE_KINDS,
  TRAITS,
  containerName,
  podLabels,
  pullSecretName,
  serviceName,
  servicePorts,
  wantsService,
  type ContainerForm,
  type EnvForm,
  type Pair,
  type ProbeForm,
  type VolumeForm,
  type WizardState,
} from "./form";
import { intOrPercent } from "./rules";
import { wordsOf } from "./words";

type Json = Record<string, unknown>;

function mapOf(pairs: Pair[]): Record<string, string> {
  return Object.fromEntries(pairs.map((pair) => [pair.key.trim(), pair.value.trim()]));
}

/** Leaves out what is empty, so the object carries only what was asked for. */
function compact(object: Json): Json {
  return Object.fromEntries(
    Object.entries(object).filter(
      ([, value]) =>
        value !== undefined &&
        value !== "" &&
        !(Array.isArray(value) && value.length === 0) &&
        !(typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length === 0),
    ),
  );
}

/** A port as a probe names it: a number, or a named container port. */
function portRef(text: string): number | string {
  return /^\d+$/.test(text.trim()) ? Number(text.trim()) : text.trim();
}

function probeOf(probe: ProbeForm): Json | undefined {
  const handler: Json =
    probe.type === "http"
      ? { httpGet: compact({ path: probe.path, port: portRef(probe.port), scheme: probe.scheme === "HTTP" ? undefined : probe.scheme }) }
      : probe.type === "tcp"
        ? { tcpSocket: { port: portRef(probe.port) } }
        : probe.type === "exec"
          ? { exec: { command: wordsOf("line", probe.command).words } }
          : {};
  if (probe.type === "none") return undefined;
  return {
    ...handler,
    initialDelaySeconds: Number(probe.initialDelaySeconds),
    periodSeconds: Number(probe.periodSeconds),
    timeoutSeconds: Number(probe.timeoutSeconds),
    failureThreshold: Number(probe.failureThreshold),
  };
}

function envOf(env: EnvForm): Json {
  const name = env.name.trim();
  if (env.source === "configMap") return { name, valueFrom: { configMapKeyRef: { name: env.ref, key: env.key } } };
  if (env.source === "secret") return { name, valueFrom: { secretKeyRef: { name: env.ref, key: env.key } } };
  return { name, value: env.value };
}

function resourcesOf(container: ContainerForm): Json {
  const { cpuRequest, cpuLimit, memoryRequest, memoryLimit } = container.resources;
  return compact({
    requests: compact({ cpu: cpuRequest.trim(), memory: memoryRequest.trim() }),
    limits: compact({ cpu: cpuLimit.trim(), memory: memoryLimit.trim() }),
  });
}

function mountsOf(state: WizardState, container: ContainerForm): Json[] {
  return state.volumes
    .filter((volume) => volume.containers.includes(container.id))
    .map((volume) => compact({ name: volume.name.trim(), mountPath: volume.mountPath.trim(), readOnly: volume.readOnly || undefined }));
}

function containerOf(state: WizardState, index: number): Json {
  const container = state.containers[index];
  const probes = container.init
    ? {}
    : Object.fromEntries(PROBE_KINDS.map((kind) => [`${kind}Probe`, probeOf(container.probes[kind])]));
  return compact({
    name: containerName(state, index),
    image: container.image.trim(),
    imagePullPolicy: container.imagePullPolicy,
    command: wordsOf(container.command.mode, container.command.text).words,
    args: wordsOf(container.args.mode, container.args.text).words,
    ports: container.ports.map((port) =>
      compact({ name: port.name.trim(), containerPort: Number(port.containerPort), protocol: port.protocol }),
    ),
    env: container.env.map(envOf),
    resources: resourcesOf(container),
    ...probes,
    volumeMounts: mountsOf(state, container),
  });
}

function volumeOf(volume: VolumeForm): Json {
  const items = volume.keys.length ? volume.keys.map((key) => ({ key, path: key })) : undefined;
  const name = volume.name.trim();
  switch (volume.type) {
    case "emptyDir":
      return { name, emptyDir: volume.memory ? { medium: "Memory" } : {} };
    case "persistentVolumeClaim":
      return { name, persistentVolumeClaim: compact({ claimName: volume.source, readOnly: volume.readOnly || undefined }) };
    case "configMap":
      return { name, configMap: compact({ name: volume.source, items }) };
    case "secret":
      return { name, secret: compact({ secretName: volume.source, items }) };
  }
}

function imagePullSecrets(state: WizardState): Json[] {
  const { mode, existing } = state.pullSecret;
  if (mode === "existing") return [{ name: existing }];
  if (mode === "new") return [{ name: pullSecretName(state) }];
  return [];
}

function podTemplate(state: WizardState): Json {
  const indexes = state.containers.map((_, at) => at);
  const batch = TRAITS[state.kind].batch;
  return {
    metadata: { labels: mapOf(podLabels(state)) },
    spec: compact({
      initContainers: indexes.filter((at) => state.containers[at].init).map((at) => containerOf(state, at)),
      containers: indexes.filter((at) => !state.containers[at].init).map((at) => containerOf(state, at)),
      volumes: state.volumes.map(volumeOf),
      nodeSelector: mapOf(state.nodeSelector),
      imagePullSecrets: imagePullSecrets(state),
      // A pod that runs to completion must not be restarted forever (`Always`, the default, is refused).
      restartPolicy: batch ? state.job.restartPolicy : undefined,
    }),
  };
}

function strategyOf(state: WizardState): Json {
  const { type, maxSurge, maxUnavailable, partition } = state.strategy;
  if (type !== "RollingUpdate") return { type };
  if (state.kind === "Deployment") {
    return { type, rollingUpdate: { maxSurge: intOrPercent(maxSurge), maxUnavailable: intOrPercent(maxUnavailable) } };
  }
  if (state.kind === "StatefulSet") return { type, rollingUpdate: { partition: Number(partition) } };
  return { type, rollingUpdate: { maxUnavailable: intOrPercent(maxUnavailable) } };
}

function jobSpec(state: WizardState): Json {
  return {
    completions: Number(state.job.completions),
    parallelism: Number(state.job.parallelism),
    backoffLimit: Number(state.job.backoffLimit),
    template: podTemplate(state),
  };
}

/**
 * The governing Service of a StatefulSet (`spec.serviceName`, which the API requires): it
 * gives each pod a stable DNS name, `<pod>.<service>`. When the user asked for a Service it
 * governs the set (it has the set's name and selector); when not, a headless one
 * (`clusterIP: None`) of the set's name is made for it — that is also the only kind of
 * Service through which Kubernetes publishes per-pod DNS records.
 */
function specOf(state: WizardState): Json {
  const selector = { matchLabels: mapOf(podLabels(state)) };
  switch (state.kind) {
    case "Deployment":
      return { replicas: Number(state.replicas), selector, strategy: strategyOf(state), template: podTemplate(state) };
    case "StatefulSet":
      return { replicas: Number(state.replicas), serviceName: serviceName(state), selector, updateStrategy: strategyOf(state), template: podTemplate(state) };
    case "DaemonSet":
      return { selector, updateStrategy: strategyOf(state), template: podTemplate(state) };
    case "Job":
      return jobSpec(state);
    case "CronJob":
      return {
        schedule: state.cron.schedule.trim(),
        concurrencyPolicy: state.cron.concurrencyPolicy,
        suspend: state.cron.suspend,
        jobTemplate: { metadata: { labels: mapOf(podLabels(state)) }, spec: jobSpec(state) },
      };
  }
}

function workloadOf(state: WizardState, namespace: string): K8sObject {
  const kind = TRAITS[state.kind].kind;
  const annotations = {
    ...mapOf(state.annotations),
    ...compact({ [ALIAS_ANNOTATION]: state.alias.trim(), [DESCRIPTION_ANNOTATION]: state.description.trim() }),
  };
  const metadata: K8sObject["metadata"] = { name: state.name.trim(), namespace, labels: mapOf(podLabels(state)) };
  if (Object.keys(annotations).length) metadata.annotations = annotations as Record<string, string>;
  return { apiVersion: kind.apiVersion, kind: kind.kind, metadata, spec: specOf(state) };
}

/** Service port names must be unique when there are several: the container port's, or `<protocol>-<port>`. */
function servicePortsOf(state: WizardState, headless: boolean): Json[] {
  const used = new Set<string>();
  return servicePorts(state)
    .filter((item) => headless || item.entry.expose)
    .map(({ port, entry }) => {
      const number = Number(headless ? port.containerPort : entry.port);
      const wanted = port.name.trim() || `${port.protocol.toLowerCase()}-${number}`;
      let name = wanted;
      for (let n = 2; used.has(name); n++) name = `${wanted}-${n}`;
      used.add(name);
      const nodePort = !headless && state.service.type === "NodePort" && entry.nodePort.trim() ? Number(entry.nodePort) : undefined;
      return compact({ name, protocol: port.protocol, port: number, targetPort: Number(port.containerPort), nodePort });
    });
}

function serviceOf(state: WizardState, namespace: string): K8sObject | undefined {
  const headless = state.kind === "StatefulSet" && !wantsService(state);
  if (!headless && !wantsService(state)) return undefined;
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: serviceName(state), namespace, labels: mapOf(podLabels(state)) },
    spec: compact({
      type: headless ? undefined : state.service.type,
      clusterIP: headless ? "None" : undefined,
      selector: mapOf(podLabels(state)),
      ports: servicePortsOf(state, headless),
    }),
  };
}

/** UTF-8 text in base64, as a Secret's `data` holds it. */
export function base64(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** The `.dockerconfigjson` a kubelet reads: `auths[server].auth` is base64 of `user:password`. */
export function dockerConfig(server: string, username: string, password: string, email: string): string {
  const entry = compact({ username, password, email: email.trim(), auth: base64(`${username}:${password}`) });
  return JSON.stringify({ auths: { [server.trim()]: entry } });
}

function pullSecretOf(state: WizardState, namespace: string): K8sObject | undefined {
  const form = state.pullSecret;
  if (form.mode !== "new") return undefined;
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "kubernetes.io/dockerconfigjson",
    metadata: { name: pullSecretName(state), namespace },
    data: { ".dockerconfigjson": base64(dockerConfig(form.server, form.username.trim(), form.password, form.email)) },
  };
}

/** The objects to create, in order: the registry Secret (if new), the workload, its Service. */
export function toObjects(state: WizardState, namespace: string): K8sObject[] {
  return [pullSecretOf(state, namespace), workloadOf(state, namespace), serviceOf(state, namespace)].filter(
    (object): object is K8sObject => object !== undefined,
  );
}
