// Node status words as kubectl prints them, and the patches the node actions send.
import { address, cordonPatch, keyProblem, labelsPatch, nodeRoles, nodeStatus, pressures, rowProblems, taintProblems, taintsPatch, valueProblem } from "./node";

const node = (ready: string | null, unschedulable = false, extra: { type: string; status: string }[] = []) => ({
  metadata: { name: "n1", labels: { "node-role.kubernetes.io/control-plane": "", "node-role.kubernetes.io/master": "", "kubernetes.io/role": "edge" } },
  spec: unschedulable ? { unschedulable: true } : {},
  status: {
    conditions: [...(ready ? [{ type: "Ready", status: ready }] : []), ...extra],
    addresses: [
      { type: "InternalIP", address: "10.0.0.5" },
      { type: "Hostname", address: "n1" },
    ],
  },
});

describe("nodeStatus", () => {
  it.each([
    ["True", false, "Ready", "ok"],
    ["False", false, "NotReady", "error"],
    [null, false, "Unknown", "unknown"],
    ["True", true, "Ready,SchedulingDisabled", "warning"],
    ["False", true, "NotReady,SchedulingDisabled", "error"],
  ] as const)("Ready=%s unschedulable=%s → %s", (ready, unschedulable, text, health) => {
    expect(nodeStatus(node(ready, unschedulable))).toEqual({ text, health });
  });

  it("names the pressures that are True", () => {
    expect(pressures(node("True", false, [{ type: "DiskPressure", status: "True" }, { type: "MemoryPressure", status: "False" }]))).toEqual(["DiskPressure"]);
  });
});

it("reads roles from both role labels, and addresses by type", () => {
  expect(nodeRoles(node("True"))).toEqual(["control-plane", "edge", "master"]);
  expect(address(node("True"), "InternalIP")).toBe("10.0.0.5");
  expect(address(node("True"), "ExternalIP")).toBe("");
});

it("cordons with true and uncordons by removing the field", () => {
  expect(cordonPatch(true)).toEqual({ spec: { unschedulable: true } });
  expect(cordonPatch(false)).toEqual({ spec: { unschedulable: null } });
});

describe("labelsPatch", () => {
  it("names only changed and new keys, and null for removed ones", () => {
    expect(labelsPatch({ keep: "1", change: "a", drop: "x" }, { keep: "1", change: "b", add: "" })).toEqual({
      metadata: { labels: { drop: null, change: "b", add: "" } },
    });
  });
  it("is empty when nothing changed", () => {
    expect(labelsPatch({ a: "1" }, { a: "1" })).toEqual({ metadata: { labels: {} } });
  });
});

describe("taintsPatch", () => {
  it("sends the whole list, trimmed, without empty values", () => {
    expect(taintsPatch([{ key: " gpu ", value: "", effect: "NoSchedule" }, { key: "zone", value: " a ", effect: "NoExecute", timeAdded: "t" }])).toEqual({
      spec: {
        taints: [
          { key: "gpu", effect: "NoSchedule" },
          { key: "zone", effect: "NoExecute", value: "a", timeAdded: "t" },
        ],
      },
    });
  });
  it("removes the field when no taint is left", () => {
    expect(taintsPatch([])).toEqual({ spec: { taints: null } });
  });
});

describe("keys and values", () => {
  it.each([
    ["app", null],
    ["example.com/tier", null],
    ["node-role.kubernetes.io/worker", null],
    ["", "keys.required"],
    ["/x", "keys.invalid"],
    ["Example.com/x", "keys.invalid"],
    ["a b", "keys.invalid"],
    [`x/${"a".repeat(64)}`, "keys.invalid"],
  ])("key %s → %s", (key, problem) => {
    expect(keyProblem(key)).toBe(problem);
  });

  it("accepts an empty value and refuses spaces", () => {
    expect(valueProblem("")).toBeNull();
    expect(valueProblem("a b")).toBe("keys.badValue");
  });

  it("flags a repeated label key on its second row", () => {
    expect(rowProblems([{ key: "a", value: "1" }, { key: " a", value: "2" }, { key: "b", value: "" }])).toEqual([null, "keys.duplicate", null]);
  });

  it("lets a taint key repeat with another effect only", () => {
    expect(
      taintProblems([
        { key: "gpu", effect: "NoSchedule" },
        { key: "gpu", effect: "NoExecute" },
        { key: "gpu", effect: "NoSchedule" },
      ]),
    ).toEqual([null, null, "keys.duplicate"]);
  });
});
