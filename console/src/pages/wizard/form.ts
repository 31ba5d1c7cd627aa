/**
 * The wizard's form state: what the user has typed, kept as typed (numbers stay strings until
 * they are valid), its defaults, and the values derived from it that more than one step needs
 * (a container's effective name, the pod labels, the ports a Service exposes). Items of lists
 * carry an `id` so React can key them and so one step can point at another's items (a
 * volume's mount names containers by id, the Service names container ports by id).
 */
import { CronJob, DaemonSet, Deployment, Job, StatefulSet, type Kind } from "@/lib/k8s/kinds";
import type { WordsMode } from "./words";

export const WORKLOAD_KINDS = ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

export type StrategyType = "RollingUpdate" | "Recreate" | "OnDelete";

/** What each kind has, so every step asks only what applies. */
export interface Traits {
  kind: Kind;
  replicas: boolean;
  /** Whether a Service may be created along with it (not for run-to-completion kinds). */
  service: boolean;
  strategies: StrategyType[];
  /** Whether it runs to completion (Job, CronJob): restart policy and completions. */
  batch: boolean;
  /** CronJob names are at most 52: the controller appends an 11-character suffix to name each Job. */
  maxName: number;
}

export const TRAITS: Record<WorkloadKind, Traits> = {
  Deployment: { kind: Deployment, replicas: true, service: true, strategies: ["RollingUpdate", "Recreate"], batch: false, maxName: 63 },
  StatefulSet: { kind: StatefulSet, replicas: true, service: true, strategies: ["RollingUpdate", "OnDelete"], batch: false, maxName: 63 },
  DaemonSet: { kind: DaemonSet, replicas: false, service: true, strategies: ["RollingUpdate", "OnDelete"], batch: false, maxName: 63 },
  Job: { kind: Job, replicas: false, service: false, strategies: [], batch: true, maxName: 63 },
  CronJob: { kind: CronJob, replicas: false, service: false, strategies: [], batch: true, maxName: 52 },
};

/** The kind a `?kind=` query names; a Deployment when it names none the wizard knows. */
export function kindOf(text: string | null | undefined): WorkloadKind {
  return WORKLOAD_KINDS.find((kind) => kind.toLowerCase() === (text ?? "").toLowerCase()) ?? "Deployment";
}

export interface Pair {
  id: string;
  key: string;
  value: string;
}

export type Protocol = "TCP" | "UDP" | "SCTP";

export interface PortForm {
  id: string;
  name: string;
  containerPort: string;
  protocol: Protocol;
}

export type EnvSource = "value" | "configMap" | "secret";

export interface EnvForm {
  id: string;
  name: string;
  source: EnvSource;
  value: string;
  /** The ConfigMap or Secret (by name) a `configMap`/`secret` variable reads. */
  ref: string;
  key: string;
}

export type ProbeKind = "liveness" | "readiness" | "startup";
export const PROBE_KINDS: ProbeKind[] = ["liveness", "readiness", "startup"];
export type ProbeType = "none" | "http" | "tcp" | "exec";

export interface ProbeForm {
  type: ProbeType;
  /** HTTP GET. */
  path: string;
  scheme: "HTTP" | "HTTPS";
  /** HTTP GET and TCP: a number or a named container port. */
  port: string;
  /** exec: a shell-like line, split as a command field is. */
  command: string;
  initialDelaySeconds: string;
  periodSeconds: string;
  timeoutSeconds: string;
  failureThreshold: string;
}

export interface WordsForm {
  mode: WordsMode;
  text: string;
}

export type PullPolicy = "IfNotPresent" | "Always" | "Never";

export interface ResourcesForm {
  cpuRequest: string;
  cpuLimit: string;
  memoryRequest: string;
  memoryLimit: string;
}

export interface ContainerForm {
  id: string;
  /** Runs to completion before the others start; has no probes. */
  init: boolean;
  /** Empty: derived from the image (see `containerName`). */
  name: string;
  image: string;
  imagePullPolicy: PullPolicy;
  command: WordsForm;
  args: WordsForm;
  ports: PortForm[];
  resources: ResourcesForm;
  env: EnvForm[];
  probes: Record<ProbeKind, ProbeForm>;
}

export interface StrategyForm {
  type: StrategyType;
  maxSurge: string;
  maxUnavailable: string;
  partition: string;
}

export interface JobForm {
  completions: string;
  parallelism: string;
  backoffLimit: string;
  restartPolicy: "OnFailure" | "Never";
}

export interface CronForm {
  schedule: string;
  concurrencyPolicy: "Allow" | "Forbid" | "Replace";
  suspend: boolean;
}

export type VolumeType = "emptyDir" | "persistentVolumeClaim" | "configMap" | "secret";

export interface VolumeForm {
  id: string;
  name: string;
  type: VolumeType;
  /** The PVC, ConfigMap or Secret it is made of. */
  source: string;
  /** ConfigMap and Secret: the keys to project as files; none: all of them. */
  keys: string[];
  /** emptyDir: in memory (tmpfs) rather than on the node's disk. */
  memory: boolean;
  mountPath: string;
  readOnly: boolean;
  /** The ids of the containers it is mounted into. */
  containers: string[];
}

export type ServiceType = "None" | "ClusterIP" | "NodePort";

export interface ServicePortForm {
  expose: boolean;
  port: string;
  nodePort: string;
}

export interface ServiceForm {
  type: ServiceType;
  /** By container port id; a port without an entry is exposed on its own number. */
  ports: Record<string, ServicePortForm>;
}

export type PullSecretMode = "none" | "existing" | "new";

export interface PullSecretForm {
  mode: PullSecretMode;
  existing: string;
  /** Empty: `<workload name>-registry`. */
  name: string;
  server: string;
  username: string;
  password: string;
  email: string;
}

export interface WizardState {
  kind: WorkloadKind;
  name: string;
  alias: string;
  description: string;
  replicas: string;
  containers: ContainerForm[];
  strategy: StrategyForm;
  job: JobForm;
  cron: CronForm;
  volumes: VolumeForm[];
  nodeSelector: Pair[];
  /** The pod template's labels, also the selector; `null` until edited: `app: <name>`. */
  labels: Pair[] | null;
  annotations: Pair[];
  service: ServiceForm;
  pullSecret: PullSecretForm;
}

export const ALIAS_ANNOTATION = "atoll.io/alias-name";
export const DESCRIPTION_ANNOTATION = "atoll.io/description";

let counter = 0;

/** A key for a new list item, unique for the page's life. */
export function newId(): string {
  counter += 1;
  return `item-${counter}`;
}

/** Kubernetes' own probe defaults (KubeSphere shows the same). */
export function newProbe(): ProbeForm {
  return {
    type: "none",
    path: "/",
    scheme: "HTTP",
    port: "",
    command: "",
    initialDelaySeconds: "0",
    periodSeconds: "10",
    timeoutSeconds: "1",
    failureThreshold: "3",
  };
}

export function newContainer(): ContainerForm {
  return {
    id: newId(),
    init: false,
    name: "",
    image: "",
    imagePullPolicy: "IfNotPresent",
    command: { mode: "line", text: "" },
    args: { mode: "line", text: "" },
    ports: [],
    resources: { cpuRequest: "", cpuLimit: "", memoryRequest: "", memoryLimit: "" },
    env: [],
    probes: { liveness: newProbe(), readiness: newProbe(), startup: newProbe() },
  };
}

export function newPort(): PortForm {
  return { id: newId(), name: "", containerPort: "", protocol: "TCP" };
}

export function newEnv(): EnvForm {
  return { id: newId(), name: "", source: "value", value: "", ref: "", key: "" };
}

export function newPair(key = "", value = ""): Pair {
  return { id: newId(), key, value };
}

export function newVolume(type: VolumeType, index: number, containers: string[]): VolumeForm {
  return { id: newId(), name: `volume-${index + 1}`, type, source: "", keys: [], memory: false, mountPath: "", readOnly: type === "configMap" || type === "secret", containers };
}

/** The strategy a kind starts with: Kubernetes' defaults (DaemonSets replace one node at a time). */
export function defaultStrategy(kind: WorkloadKind): StrategyForm {
  return { type: "RollingUpdate", maxSurge: "25%", maxUnavailable: kind === "DaemonSet" ? "1" : "25%", partition: "0" };
}

export function initialState(kind: WorkloadKind = "Deployment"): WizardState {
  return {
    kind,
    name: "",
    alias: "",
    description: "",
    replicas: "1",
    containers: [newContainer()],
    strategy: defaultStrategy(kind),
    job: { completions: "1", parallelism: "1", backoffLimit: "6", restartPolicy: "Never" },
    cron: { schedule: "0 * * * *", concurrencyPolicy: "Allow", suspend: false },
    volumes: [],
    nodeSelector: [],
    labels: null,
    annotations: [],
    service: { type: "None", ports: {} },
    pullSecret: { mode: "none", existing: "", name: "", server: "", username: "", password: "", email: "" },
  };
}

/** Another kind, keeping everything that still applies; the strategy is reset (each kind has its own). */
export function withKind(state: WizardState, kind: WorkloadKind): WizardState {
  return { ...state, kind, strategy: defaultStrategy(kind) };
}

/** A name from the image when the user gives none: `docker.io/library/python:3` → `python`. */
export function nameFromImage(image: string): string {
  const repository = image.trim().split("@")[0].replace(/:[^/:]*$/, "");
  const last = repository.split("/").pop() ?? "";
  return last.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 63).replace(/-+$/, "");
}

/** The name a container will have: the one typed, or one made from its image, or `container-<n>`. */
export function containerName(state: WizardState, index: number): string {
  const container = state.containers[index];
  if (container.name.trim()) return container.name.trim();
  const derived = nameFromImage(container.image) || `container-${index + 1}`;
  // Two containers of one image must not end up with the same name.
  const earlier = state.containers.slice(0, index).map((_, at) => containerName(state, at));
  return earlier.includes(derived) ? `${derived}-${index + 1}` : derived;
}

/** The pod labels, which are also the workload's selector. */
export function podLabels(state: WizardState): Pair[] {
  return state.labels ?? [{ id: "default-app", key: "app", value: state.name.trim() }];
}

/** Whether a Service is made along with the workload (a StatefulSet's headless one aside). */
export function wantsService(state: WizardState): boolean {
  return TRAITS[state.kind].service && state.service.type !== "None";
}

export interface ExposedPort {
  /** The container port's id. */
  id: string;
  container: number;
  port: PortForm;
  entry: ServicePortForm;
}

/** Every port of the (non-init) containers with what the Service makes of it. */
export function servicePorts(state: WizardState): ExposedPort[] {
  return state.containers.flatMap((container, index) =>
    container.init
      ? []
      : container.ports.map((port) => ({
          id: port.id,
          container: index,
          port,
          entry: state.service.ports[port.id] ?? { expose: true, port: port.containerPort, nodePort: "" },
        })),
  );
}

export function pullSecretName(state: WizardState): string {
  return state.pullSecret.name.trim() || `${state.name.trim()}-registry`;
}

/** The name a Service made along with the workload gets: the workload's. */
export function serviceName(state: WizardState): string {
  return state.name.trim();
}
