// The wizard's model: what it refuses, and the objects a valid form becomes for each kind.
import {
  containerName,
  dockerConfig,
  initialState,
  kindOf,
  nameFromImage,
  newEnv,
  newPair,
  newPort,
  newVolume,
  problemsOf,
  servicePorts,
  stepOf,
  toObjects,
  validate,
  withKind,
  type ContainerForm,
  type WizardState,
  type WorkloadKind,
} from "./model";

/** The smallest valid form: a name and an image. */
function minimal(kind: WorkloadKind = "Deployment"): WizardState {
  const state = initialState(kind);
  state.name = "web";
  state.containers[0].image = "python:3";
  return state;
}

function change(state: WizardState, edit: (container: ContainerForm) => void, index = 0): WizardState {
  edit(state.containers[index]);
  return state;
}

function codes(state: WizardState): Record<string, string> {
  return Object.fromEntries(Object.entries(validate(state)).map(([path, problem]) => [path, problem.code]));
}

function decode(text: string): string {
  return new TextDecoder().decode(Uint8Array.from(atob(text), (char) => char.charCodeAt(0)));
}

describe("the form", () => {
  it("reads the kind from the query, a Deployment by default", () => {
    expect(kindOf("StatefulSet")).toBe("StatefulSet");
    expect(kindOf("cronjob")).toBe("CronJob");
    expect(kindOf(null)).toBe("Deployment");
    expect(kindOf("Pod")).toBe("Deployment");
  });
  it("names a container after its image unless named", () => {
    expect(nameFromImage("python:3")).toBe("python");
    expect(nameFromImage("docker.io/library/nginx:1.27@sha256:abc")).toBe("nginx");
    expect(nameFromImage("localhost:5000/My_App")).toBe("my-app");
    expect(nameFromImage("")).toBe("");
    const state = minimal();
    state.containers.push({ ...state.containers[0], id: "second" }, { ...state.containers[0], id: "third", image: "" });
    expect([0, 1, 2].map((at) => containerName(state, at))).toEqual(["python", "python-2", "container-3"]);
    state.containers[1].name = "sidecar";
    expect(containerName(state, 1)).toBe("sidecar");
  });
  it("resets the strategy when the kind changes", () => {
    const state = minimal();
    state.strategy.type = "Recreate";
    const daemons = withKind(state, "DaemonSet");
    expect(daemons.strategy).toEqual({ type: "RollingUpdate", maxSurge: "25%", maxUnavailable: "1", partition: "0" });
    expect(daemons.containers).toBe(state.containers);
  });
});

describe("validate", () => {
  it("accepts the minimal form", () => {
    expect(validate(minimal())).toEqual({});
  });
  it("requires a DNS-1123 label of a name, 52 characters at most for a CronJob", () => {
    const state = minimal();
    state.name = "";
    expect(codes(state).name).toBe("required");
    state.name = "Web";
    expect(codes(state).name).toBe("dnsLabel");
    state.name = "web_app";
    expect(codes(state).name).toBe("dnsLabel");
    state.name = "a".repeat(64);
    expect(validate(state).name).toEqual({ code: "tooLong", limit: 63 });
    const cron = minimal("CronJob");
    cron.name = "a".repeat(53);
    expect(validate(cron).name).toEqual({ code: "tooLong", limit: 52 });
    cron.name = "a".repeat(52);
    expect(codes(cron).name).toBeUndefined();
  });
  it("asks for a letter first when the name also names a Service", () => {
    const state = minimal();
    state.name = "1web";
    expect(codes(state).name).toBeUndefined();
    state.service.type = "ClusterIP";
    state.containers[0].ports = [{ ...newPort(), containerPort: "80" }];
    expect(codes(state).name).toBe("dns1035");
    state.kind = "StatefulSet";
    state.service.type = "None";
    expect(codes(state).name).toBe("dns1035");
  });
  it("checks replicas only for kinds that have them", () => {
    const state = minimal();
    state.replicas = "-1";
    expect(validate(state).replicas).toEqual({ code: "atLeast", limit: 0 });
    state.replicas = "";
    expect(codes(state).replicas).toBe("required");
    expect(codes(withKind(state, "DaemonSet")).replicas).toBeUndefined();
  });
  it("requires an image and a regular container", () => {
    const state = minimal();
    state.containers[0].image = " ";
    expect(codes(state)["containers.0.image"]).toBe("required");
    state.containers[0].image = "busybox";
    state.containers[0].init = true;
    expect(codes(state).containers).toBe("noContainers");
  });
  it("refuses bad or duplicate container names", () => {
    const state = minimal();
    state.containers.push({ ...state.containers[0], id: "b", name: "python" });
    expect(codes(state)["containers.1.name"]).toBe("duplicate");
    state.containers[1].name = "Bad_Name";
    expect(codes(state)["containers.1.name"]).toBe("dnsLabel");
  });
  it("checks ports", () => {
    const state = change(minimal(), (container) => {
      container.ports = [
        { ...newPort(), containerPort: "0" },
        { ...newPort(), containerPort: "8000", name: "http" },
        { ...newPort(), containerPort: "8001", name: "http" },
        { ...newPort(), containerPort: "65535", name: "Not_OK" },
      ];
    });
    expect(codes(state)).toEqual({
      "containers.0.ports.0.containerPort": "port",
      "containers.0.ports.2.name": "duplicate",
      "containers.0.ports.3.name": "portName",
    });
  });
  it("checks quantities and that a limit is not below its request", () => {
    const state = change(minimal(), (container) => {
      container.resources = { cpuRequest: "500m", cpuLimit: "0.25", memoryRequest: "128Mi", memoryLimit: "1Gi" };
    });
    expect(codes(state)).toEqual({ "containers.0.resources.cpuLimit": "limitBelowRequest" });
    state.containers[0].resources = { cpuRequest: "1Gi", cpuLimit: "", memoryRequest: "128m", memoryLimit: "lots" };
    expect(codes(state)).toEqual({
      "containers.0.resources.cpuRequest": "cpu",
      "containers.0.resources.memoryRequest": "memory",
      "containers.0.resources.memoryLimit": "memory",
    });
    state.containers[0].resources = { cpuRequest: "", cpuLimit: "2", memoryRequest: "1G", memoryLimit: "1Gi" };
    expect(codes(state)).toEqual({});
    state.containers[0].resources.memoryLimit = "900Mi";
    expect(codes(state)).toEqual({ "containers.0.resources.memoryLimit": "limitBelowRequest" });
  });
  it("checks environment variables and their sources", () => {
    const state = change(minimal(), (container) => {
      container.env = [
        { ...newEnv(), name: "MODE", value: "prod" },
        { ...newEnv(), name: "MODE", value: "dev" },
        { ...newEnv(), name: "1X" },
        { ...newEnv(), name: "FROM_CM", source: "configMap", ref: "settings" },
        { ...newEnv(), name: "", source: "secret" },
      ];
    });
    expect(codes(state)).toEqual({
      "containers.0.env.1.name": "duplicate",
      "containers.0.env.2.name": "envName",
      "containers.0.env.3.key": "required",
      "containers.0.env.4.name": "required",
      "containers.0.env.4.ref": "required",
      "containers.0.env.4.key": "required",
    });
  });
  it("checks probes of each type", () => {
    const state = change(minimal(), (container) => {
      container.probes.readiness = { ...container.probes.readiness, type: "http", path: "healthz", port: "" };
      container.probes.liveness = { ...container.probes.liveness, type: "tcp", port: "web-port-name-too-long", periodSeconds: "0" };
      container.probes.startup = { ...container.probes.startup, type: "exec", command: "cat '/tmp/ready", failureThreshold: "" };
    });
    expect(codes(state)).toEqual({
      "containers.0.probes.readiness.path": "httpPath",
      "containers.0.probes.readiness.port": "required",
      "containers.0.probes.liveness.port": "portOrName",
      "containers.0.probes.liveness.periodSeconds": "atLeast",
      "containers.0.probes.startup.command": "unclosedQuote",
      "containers.0.probes.startup.failureThreshold": "required",
    });
    state.containers[0].init = true;
    state.containers.push({ ...state.containers[0], id: "main", init: false, image: "nginx", probes: minimal().containers[0].probes });
    expect(codes(state)).toEqual({});
  });
  it("checks the command and args for unclosed quotes", () => {
    const state = change(minimal(), (container) => {
      container.command.text = `sh -c "echo`;
    });
    expect(codes(state)).toEqual({ "containers.0.command": "unclosedQuote" });
  });
  it("checks a Deployment's rolling update", () => {
    const state = minimal();
    state.strategy.maxSurge = "0";
    state.strategy.maxUnavailable = "0%";
    expect(codes(state)).toEqual({ "strategy.maxUnavailable": "bothZero" });
    state.strategy.maxSurge = "150%";
    expect(codes(state)).toEqual({ "strategy.maxSurge": "intOrPercent" });
    state.strategy.type = "Recreate";
    expect(codes(state)).toEqual({});
  });
  it("checks a StatefulSet's partition and a DaemonSet's maxUnavailable", () => {
    const sets = minimal("StatefulSet");
    sets.strategy.partition = "x";
    expect(codes(sets)).toEqual({ "strategy.partition": "atLeast" });
    const daemons = minimal("DaemonSet");
    daemons.strategy.maxUnavailable = "-1";
    expect(codes(daemons)).toEqual({ "strategy.maxUnavailable": "intOrPercent" });
  });
  it("checks a Job's counts and a CronJob's schedule", () => {
    const jobs = minimal("Job");
    jobs.job = { ...jobs.job, completions: "0", parallelism: "", backoffLimit: "0" };
    expect(codes(jobs)).toEqual({ "job.completions": "atLeast", "job.parallelism": "required" });
    const cron = minimal("CronJob");
    cron.cron.schedule = "every minute";
    expect(codes(cron)).toEqual({ "cron.schedule": "cron" });
  });
  it("checks volumes and their mounts", () => {
    const state = minimal();
    const id = state.containers[0].id;
    state.volumes = [
      { ...newVolume("emptyDir", 0, [id]), mountPath: "/cache" },
      { ...newVolume("configMap", 1, [id]), mountPath: "/cache" },
      { ...newVolume("persistentVolumeClaim", 2, []), name: "volume-1", mountPath: "data" },
      { ...newVolume("secret", 3, ["gone"]), source: "tls", mountPath: "" },
    ];
    expect(codes(state)).toEqual({
      "volumes.1.source": "required",
      "volumes.1.mountPath": "duplicate",
      "volumes.2.name": "duplicate",
      "volumes.2.source": "required",
      "volumes.2.containers": "noMountTarget",
      "volumes.2.mountPath": "absolutePath",
      "volumes.3.containers": "noMountTarget",
      "volumes.3.mountPath": "required",
    });
  });
  it("checks labels, the node selector and annotations", () => {
    const state = minimal();
    state.labels = [];
    expect(codes(state)).toEqual({ labels: "noLabels" });
    state.labels = [newPair("app", "web"), newPair("app", "x"), newPair("tier", "front end")];
    state.nodeSelector = [newPair("", "x"), newPair("kubernetes.io/os", "linux")];
    state.alias = "Web site";
    state.annotations = [newPair("atoll.io/alias-name", "other"), newPair("note", "anything at all: even spaces"), newPair("bad key", "")];
    expect(codes(state)).toEqual({
      "labels.1.key": "duplicate",
      "labels.2.value": "labelValue",
      "nodeSelector.0.key": "required",
      "annotations.0.key": "reserved",
      "annotations.2.key": "labelKey",
    });
  });
  it("checks the Service's ports", () => {
    const state = change(minimal(), (container) => {
      container.ports = [
        { ...newPort(), id: "a", containerPort: "8000" },
        { ...newPort(), id: "b", containerPort: "8001" },
      ];
    });
    state.service = { type: "NodePort", ports: { a: { expose: true, port: "80", nodePort: "80" }, b: { expose: true, port: "80", nodePort: "" } } };
    expect(codes(state)).toEqual({ "service.ports.a.nodePort": "nodePort", "service.ports.b.port": "duplicate" });
    state.service.ports = { a: { expose: false, port: "80", nodePort: "" }, b: { expose: false, port: "80", nodePort: "" } };
    expect(codes(state)).toEqual({ "service.type": "noServicePorts" });
    expect(codes(withKind(state, "Job"))).toEqual({});
  });
  it("checks the pull secret", () => {
    const state = minimal();
    state.pullSecret.mode = "existing";
    expect(codes(state)).toEqual({ "pullSecret.existing": "required" });
    state.pullSecret.mode = "new";
    state.pullSecret.name = "Bad!";
    expect(codes(state)).toEqual({
      "pullSecret.name": "dnsSubdomain",
      "pullSecret.server": "required",
      "pullSecret.username": "required",
      "pullSecret.password": "required",
    });
  });
  it("places each path in its step", () => {
    expect(stepOf("name")).toBe("basic");
    expect(stepOf("containers.0.probes.readiness.port")).toBe("containers");
    expect(stepOf("cron.schedule")).toBe("strategy");
    expect(stepOf("volumes.1.mountPath")).toBe("volumes");
    expect(stepOf("labels.0.key")).toBe("advanced");
    expect(stepOf("service.ports.x.port")).toBe("service");
    expect(stepOf("pullSecret.server")).toBe("pullSecret");
    expect(problemsOf({ name: { code: "required" }, "job.completions": { code: "required" } }, "strategy")).toEqual(["job.completions"]);
  });
});

describe("toObjects", () => {
  it("makes the minimal Deployment", () => {
    expect(toObjects(minimal(), "demo")).toEqual([
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "web", namespace: "demo", labels: { app: "web" } },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: "web" } },
          strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } },
          template: {
            metadata: { labels: { app: "web" } },
            spec: { containers: [{ name: "python", image: "python:3", imagePullPolicy: "IfNotPresent" }] },
          },
        },
      },
    ]);
  });
  it("writes the QA journey's container: command, port and readiness probe", () => {
    const state = change(minimal(), (container) => {
      container.command.text = "python3 -m http.server 8000";
      container.args = { mode: "lines", text: "--bind\n0.0.0.0\n" };
      container.ports = [{ ...newPort(), containerPort: "8000" }];
      container.probes.readiness = { ...container.probes.readiness, type: "http", path: "/", port: "8000" };
      container.probes.liveness = { ...container.probes.liveness, type: "tcp", port: "http", initialDelaySeconds: "5" };
      container.probes.startup = { ...container.probes.startup, type: "exec", command: `sh -c 'test -f /tmp/ok'`, scheme: "HTTPS" };
      container.resources = { cpuRequest: "100m", cpuLimit: "", memoryRequest: "", memoryLimit: "256Mi" };
      container.imagePullPolicy = "Always";
    });
    const [deployment] = toObjects(state, "demo");
    const timing = { periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 3 };
    expect(deployment.spec.template.spec.containers[0]).toEqual({
      name: "python",
      image: "python:3",
      imagePullPolicy: "Always",
      command: ["python3", "-m", "http.server", "8000"],
      args: ["--bind", "0.0.0.0"],
      ports: [{ containerPort: 8000, protocol: "TCP" }],
      resources: { requests: { cpu: "100m" }, limits: { memory: "256Mi" } },
      readinessProbe: { httpGet: { path: "/", port: 8000 }, initialDelaySeconds: 0, ...timing },
      livenessProbe: { tcpSocket: { port: "http" }, initialDelaySeconds: 5, ...timing },
      startupProbe: { exec: { command: ["sh", "-c", "test -f /tmp/ok"] }, initialDelaySeconds: 0, ...timing },
    });
  });
  it("writes environment variables from values, ConfigMaps and Secrets", () => {
    const state = change(minimal(), (container) => {
      container.env = [
        { ...newEnv(), name: "MODE", value: "prod" },
        { ...newEnv(), name: "EMPTY", value: "" },
        { ...newEnv(), name: "LEVEL", source: "configMap", ref: "settings", key: "level" },
        { ...newEnv(), name: "TOKEN", source: "secret", ref: "creds", key: "token", value: "ignored" },
      ];
    });
    expect(toObjects(state, "demo")[0].spec.template.spec.containers[0].env).toEqual([
      { name: "MODE", value: "prod" },
      { name: "EMPTY", value: "" },
      { name: "LEVEL", valueFrom: { configMapKeyRef: { name: "settings", key: "level" } } },
      { name: "TOKEN", valueFrom: { secretKeyRef: { name: "creds", key: "token" } } },
    ]);
  });
  it("writes volumes and mounts them into the chosen containers only", () => {
    const state = minimal();
    state.containers.push({ ...state.containers[0], id: "side", name: "side", image: "busybox", probes: state.containers[0].probes });
    const [main, side] = state.containers.map((container) => container.id);
    state.volumes = [
      { ...newVolume("emptyDir", 0, [main, side]), name: "scratch", memory: true, mountPath: "/scratch", readOnly: false },
      { ...newVolume("persistentVolumeClaim", 1, [main]), name: "data", source: "web-data", mountPath: "/data", readOnly: false },
      { ...newVolume("configMap", 2, [side]), name: "conf", source: "settings", keys: ["app.ini"], mountPath: "/etc/app" },
      { ...newVolume("secret", 3, [main]), name: "tls", source: "web-tls", mountPath: "/tls" },
    ];
    const pod = toObjects(state, "demo")[0].spec.template.spec;
    expect(pod.volumes).toEqual([
      { name: "scratch", emptyDir: { medium: "Memory" } },
      { name: "data", persistentVolumeClaim: { claimName: "web-data" } },
      { name: "conf", configMap: { name: "settings", items: [{ key: "app.ini", path: "app.ini" }] } },
      { name: "tls", secret: { secretName: "web-tls" } },
    ]);
    expect(pod.containers[0].volumeMounts).toEqual([
      { name: "scratch", mountPath: "/scratch" },
      { name: "data", mountPath: "/data" },
      { name: "tls", mountPath: "/tls", readOnly: true },
    ]);
    expect(pod.containers[1].volumeMounts).toEqual([
      { name: "scratch", mountPath: "/scratch" },
      { name: "conf", mountPath: "/etc/app", readOnly: true },
    ]);
  });
  it("puts init containers apart, without probes", () => {
    const state = minimal();
    state.containers.unshift({ ...state.containers[0], id: "init", init: true, image: "busybox", command: { mode: "line", text: "sh -c true" } });
    state.containers[0].probes.readiness = { ...state.containers[0].probes.readiness, type: "tcp", port: "80" };
    const pod = toObjects(state, "demo")[0].spec.template.spec;
    expect(pod.initContainers).toEqual([{ name: "busybox", image: "busybox", imagePullPolicy: "IfNotPresent", command: ["sh", "-c", "true"] }]);
    expect(pod.containers.map((container: { name: string }) => container.name)).toEqual(["python"]);
  });
  it("writes labels, the selector, the node selector and annotations", () => {
    const state = minimal();
    state.labels = [newPair("app", "shop"), newPair("tier", "front")];
    state.nodeSelector = [newPair("kubernetes.io/os", "linux")];
    state.annotations = [newPair("owner", "team-a")];
    state.alias = "Web shop";
    state.description = "The shop's front end";
    const [deployment] = toObjects(state, "demo");
    expect(deployment.metadata).toEqual({
      name: "web",
      namespace: "demo",
      labels: { app: "shop", tier: "front" },
      annotations: { owner: "team-a", "atoll.io/alias-name": "Web shop", "atoll.io/description": "The shop's front end" },
    });
    expect(deployment.spec.selector).toEqual({ matchLabels: { app: "shop", tier: "front" } });
    expect(deployment.spec.template.metadata.labels).toEqual({ app: "shop", tier: "front" });
    expect(deployment.spec.template.spec.nodeSelector).toEqual({ "kubernetes.io/os": "linux" });
  });
  it("writes a Recreate Deployment and int-or-percent rolling updates", () => {
    const state = minimal();
    state.strategy = { ...state.strategy, maxSurge: "1", maxUnavailable: "0" };
    expect(toObjects(state, "demo")[0].spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    state.strategy.type = "Recreate";
    expect(toObjects(state, "demo")[0].spec.strategy).toEqual({ type: "Recreate" });
  });
  it("gives a StatefulSet a headless Service of its name when no Service is asked for", () => {
    const state = change(minimal("StatefulSet"), (container) => {
      container.ports = [{ ...newPort(), name: "http", containerPort: "8000" }];
    });
    state.replicas = "3";
    state.strategy.partition = "1";
    const [set, service] = toObjects(state, "demo");
    expect(set.kind).toBe("StatefulSet");
    expect(set.spec).toMatchObject({ replicas: 3, serviceName: "web", updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 1 } } });
    expect(service).toEqual({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", namespace: "demo", labels: { app: "web" } },
      spec: { clusterIP: "None", selector: { app: "web" }, ports: [{ name: "http", protocol: "TCP", port: 8000, targetPort: 8000 }] },
    });
    state.strategy.type = "OnDelete";
    expect(toObjects(state, "demo")[0].spec.updateStrategy).toEqual({ type: "OnDelete" });
  });
  it("lets the chosen Service govern a StatefulSet", () => {
    const state = change(minimal("StatefulSet"), (container) => {
      container.ports = [{ ...newPort(), id: "p", containerPort: "8000" }];
    });
    state.service = { type: "ClusterIP", ports: { p: { expose: true, port: "80", nodePort: "" } } };
    const objects = toObjects(state, "demo");
    expect(objects).toHaveLength(2);
    expect(objects[0].spec.serviceName).toBe("web");
    expect(objects[1].spec).toEqual({ type: "ClusterIP", selector: { app: "web" }, ports: [{ name: "tcp-80", protocol: "TCP", port: 80, targetPort: 8000 }] });
  });
  it("writes a DaemonSet without replicas", () => {
    const state = minimal("DaemonSet");
    const [daemons] = toObjects(state, "demo");
    expect(daemons.spec.replicas).toBeUndefined();
    expect(daemons.spec.updateStrategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } });
    state.strategy.type = "OnDelete";
    expect(toObjects(state, "demo")[0].spec.updateStrategy).toEqual({ type: "OnDelete" });
  });
  it("writes a Job whose pods are not restarted forever, and no Service", () => {
    const state = change(minimal("Job"), (container) => {
      container.ports = [{ ...newPort(), containerPort: "80" }];
    });
    state.service.type = "ClusterIP";
    state.job = { completions: "3", parallelism: "2", backoffLimit: "4", restartPolicy: "OnFailure" };
    const objects = toObjects(state, "demo");
    expect(objects).toHaveLength(1);
    expect(objects[0]).toMatchObject({ apiVersion: "batch/v1", kind: "Job" });
    expect(objects[0].spec).toMatchObject({ completions: 3, parallelism: 2, backoffLimit: 4 });
    expect(objects[0].spec.selector).toBeUndefined();
    expect(objects[0].spec.template.spec.restartPolicy).toBe("OnFailure");
  });
  it("writes a CronJob around a Job template", () => {
    const state = minimal("CronJob");
    state.cron = { schedule: " */5 * * * * ", concurrencyPolicy: "Forbid", suspend: true };
    const [cron] = toObjects(state, "demo");
    expect(cron).toMatchObject({ apiVersion: "batch/v1", kind: "CronJob" });
    expect(cron.spec).toMatchObject({ schedule: "*/5 * * * *", concurrencyPolicy: "Forbid", suspend: true });
    expect(cron.spec.jobTemplate.metadata.labels).toEqual({ app: "web" });
    expect(cron.spec.jobTemplate.spec).toMatchObject({ completions: 1, parallelism: 1, backoffLimit: 6 });
    expect(cron.spec.jobTemplate.spec.template.spec.restartPolicy).toBe("Never");
  });
  it("maps container ports to Service ports, NodePorts included", () => {
    const state = change(minimal(), (container) => {
      container.ports = [
        { ...newPort(), id: "a", name: "http", containerPort: "8000" },
        { ...newPort(), id: "b", containerPort: "9000", protocol: "UDP" },
        { ...newPort(), id: "c", containerPort: "9100" },
      ];
    });
    state.service = {
      type: "NodePort",
      ports: { a: { expose: true, port: "80", nodePort: "30080" }, c: { expose: false, port: "9100", nodePort: "" } },
    };
    expect(servicePorts(state).map((item) => [item.id, item.entry.expose, item.entry.port])).toEqual([
      ["a", true, "80"],
      ["b", true, "9000"],
      ["c", false, "9100"],
    ]);
    const [, service] = toObjects(state, "demo");
    expect(service.spec).toEqual({
      type: "NodePort",
      selector: { app: "web" },
      ports: [
        { name: "http", protocol: "TCP", port: 80, targetPort: 8000, nodePort: 30080 },
        { name: "udp-9000", protocol: "UDP", port: 9000, targetPort: 9000 },
      ],
    });
  });
  it("makes a registry Secret first and names it in the pods", () => {
    const state = minimal();
    state.pullSecret = { mode: "new", existing: "", name: "", server: "registry.example.com", username: "me", password: "pä55", email: "" };
    const [secret, deployment] = toObjects(state, "demo");
    expect(secret).toMatchObject({ apiVersion: "v1", kind: "Secret", type: "kubernetes.io/dockerconfigjson", metadata: { name: "web-registry", namespace: "demo" } });
    const config = JSON.parse(decode(secret.data[".dockerconfigjson"]));
    expect(config).toEqual({ auths: { "registry.example.com": { username: "me", password: "pä55", auth: expect.any(String) } } });
    expect(decode(config.auths["registry.example.com"].auth)).toBe("me:pä55");
    expect(deployment.spec.template.spec.imagePullSecrets).toEqual([{ name: "web-registry" }]);
    state.pullSecret = { ...state.pullSecret, mode: "existing", existing: "hub" };
    const objects = toObjects(state, "demo");
    expect(objects).toHaveLength(1);
    expect(objects[0].spec.template.spec.imagePullSecrets).toEqual([{ name: "hub" }]);
  });
  it("writes the email into the docker config when given", () => {
    expect(JSON.parse(dockerConfig(" https://index.docker.io/v1/ ", "u", "p", "u@example.com"))).toEqual({
      auths: { "https://index.docker.io/v1/": { username: "u", password: "p", email: "u@example.com", auth: btoa("u:p") } },
    });
  });
});
